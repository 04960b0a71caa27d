// Text and JSON renderings of the rank-laboratory experiments.
#ifndef LORANK_EXPERIMENT_REPORT_H_
#define LORANK_EXPERIMENT_REPORT_H_

#include <string>

#include "lorank/experiment.h"

namespace lorank {

// Two grids (rows: true rank k, columns: allocated rank r): the trained rel. error and the
// Eckart–Young optimum, then a reading of the phase boundary r = k.
std::string sweep_table(const SweepResult& result);

// {"params": {...}, "cells": [{"true_rank", "rank", "rel_err", "optimal_rel_err",
// "directions_above_noise", "singular_values"}], "seconds"}; non-finite numbers → null.
std::string sweep_json(const SweepResult& result);

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_REPORT_H_
