// Renderings of an adapter comparison (lorank/compare.h): the JSON document scripts read
// and a terminal table. Schemas in docs/cli.md.
#ifndef LORANK_COMPARE_REPORT_H_
#define LORANK_COMPARE_REPORT_H_

#include <string>

#include "lorank/adapter.h"
#include "lorank/compare.h"

namespace lorank {

// {"a": {...}, "b": {...}, "side", "k", "threshold_tau", "note", "modules": [{..., "phi":
// [[φ(i, 1..n')] for i = 1..n], ...}], "only_in_a", "only_in_b", "summary": {...}}.
// `a` and `b` are the adapters `comparison` was computed from.
std::string compare_json(const Adapter& a, const Adapter& b, const AdapterComparison& comparison);

// One row per compared module (r, r', φ(k, k) for k = 1, 2, 4, … and the headline top-k
// overlap, a sparkline of φ(k, k)), then the summary and the unmatched modules.
std::string compare_table(const Adapter& a, const Adapter& b, const AdapterComparison& comparison);

}  // namespace lorank

#endif  // LORANK_COMPARE_REPORT_H_
