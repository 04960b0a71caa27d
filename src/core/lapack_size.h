// LAPACK dimensions are `int`; indexing needs std::size_t. One spelling of the conversion,
// for code that passes the same dimensions to both (dimensions are >= 0: checked by
// linalg::fits_lapack_int before any call).
#ifndef LORANK_CORE_LAPACK_SIZE_H_
#define LORANK_CORE_LAPACK_SIZE_H_

#include <cstddef>

namespace lorank {

inline std::size_t sz(int v) { return static_cast<std::size_t>(v); }

}  // namespace lorank

#endif  // LORANK_CORE_LAPACK_SIZE_H_
