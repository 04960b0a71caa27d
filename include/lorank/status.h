// Status and Result<T>: how every lorank library function reports failure.
//
// Messages are escaped for a terminal at construction (lorank/terminal_text.h): one line,
// no control characters, valid UTF-8, whatever a file put in them.
//
// Failures caused by data, input, I/O or numerics are values, never exceptions or
// aborts: a public function returns Status or Result<T> and the CLI turns a non-OK
// Status into a one-line `lorank: error: ...` and an exit code. An OK Status costs one
// null pointer. Result<T> uses std::expected's member names so that moving to C++23's
// std::expected<T, Status> later is mechanical.
#ifndef LORANK_STATUS_H_
#define LORANK_STATUS_H_

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lorank {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad options or arguments from the caller (a usage error; CLI exit 2)
  kNotFound,         // missing file, key or tensor
  kCorruption,       // a file that lies: truncated, offsets out of range, bad header
  kNotSupported,     // a valid but unhandled dtype, version or layout
  kIOError,          // the operating system said no (errno text in the message)
  kNumerical,        // NaN/Inf input, no convergence
  kInternal,         // a bug in lorank
  kInvalidData,      // well-formed but inconsistent data: shapes that disagree, bad config values
};

// Returns a short lowercase name ("corruption", "invalid argument", ...).
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status ok_status() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code; empty for OK.
  const std::string& message() const;
  // "OK" or the message (the code is implied by the message's wording).
  std::string to_string() const;

  // Prefixes the message with context, e.g. "reading 'x.safetensors': ". No-op on OK.
  Status with_context(std::string_view context) const&;
  Status with_context(std::string_view context) &&;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// Factories, fmt-checked at compile time: invalid_argument("rank {} > dim {}", r, d).
template <typename... T>
Status make_status(StatusCode code, fmt::format_string<T...> f, T&&... args) {
  return Status(code, fmt::format(f, std::forward<T>(args)...));
}
#define LORANK_DEFINE_STATUS_FACTORY(name, code)                          \
  template <typename... T>                                                \
  Status name(fmt::format_string<T...> f, T&&... args) {                  \
    return Status(code, fmt::format(f, std::forward<T>(args)...));        \
  }
LORANK_DEFINE_STATUS_FACTORY(invalid_argument, StatusCode::kInvalidArgument)
LORANK_DEFINE_STATUS_FACTORY(not_found, StatusCode::kNotFound)
LORANK_DEFINE_STATUS_FACTORY(corruption, StatusCode::kCorruption)
LORANK_DEFINE_STATUS_FACTORY(not_supported, StatusCode::kNotSupported)
LORANK_DEFINE_STATUS_FACTORY(io_error, StatusCode::kIOError)
LORANK_DEFINE_STATUS_FACTORY(numerical_error, StatusCode::kNumerical)
LORANK_DEFINE_STATUS_FACTORY(internal_error, StatusCode::kInternal)
LORANK_DEFINE_STATUS_FACTORY(invalid_data, StatusCode::kInvalidData)
#undef LORANK_DEFINE_STATUS_FACTORY

namespace detail {
// Prints which error's value was read and aborts (see Result::value()).
[[noreturn]] void die_on_value_of_error(const Status& status);
}  // namespace detail

// Holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result built from an OK Status");
  }

  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value(). Reading the value of an error is a bug in the caller, never a
  // reaction to bad input: it aborts with "lorank: bug: Result::value() on an error (<code>):
  // <message>" on stderr instead of being undefined behaviour.
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T&& operator*() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }

  // The failure; OK when has_value().
  const Status& error() const { return status_; }
  Status status() const { return has_value() ? Status() : status_; }

 private:
  T& checked() {
    if (!value_) detail::die_on_value_of_error(status_);
    return *value_;
  }
  const T& checked() const {
    if (!value_) detail::die_on_value_of_error(status_);
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace lorank

#define LORANK_CONCAT_INNER_(a, b) a##b
#define LORANK_CONCAT_(a, b) LORANK_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define LORANK_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    ::lorank::Status lorank_status_ = (expr);         \
    if (!lorank_status_.ok()) return lorank_status_;  \
  } while (0)

// `LORANK_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its error.
#define LORANK_ASSIGN_OR_RETURN(lhs, expr) \
  LORANK_ASSIGN_OR_RETURN_IMPL_(LORANK_CONCAT_(lorank_result_, __LINE__), lhs, expr)
#define LORANK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()

#endif  // LORANK_STATUS_H_
