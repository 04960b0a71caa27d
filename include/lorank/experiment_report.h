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

// Per rank: final train / held-out / signal errors and the trailing singular values at the
// first and last record, against the noise matrix's spectrum; then a reading.
std::string noise_table(const NoiseResult& result);

// {"params", "noise_floor", "runs": [{"rank", "trace": [{"step", "train_err",
// "held_out_err", "signal_err", "trailing"}]}], "seconds"}; non-finite → null.
std::string noise_json(const NoiseResult& result);

// Per optimizer, a grid of final training loss (rows: rule × lr, columns: r; "div" for a
// diverged run), the same for the test loss, then a reading of the α/r question.
std::string scaling_table(const ScalingResult& result);

// {"params", "initial_loss", "noise_loss", "runs": [{"rule", "optimizer", "rank", "lr",
// "scale", "final_loss", "test_loss", "diverged", "curve": [[step, loss], ...]}], "seconds"}.
std::string scaling_json(const ScalingResult& result);

// Per true rank k: φ(i, i) between the r = k and r = factor·k fits for i = 1..k, the
// principal cosines, and the chance level k/dim; then a reading.
std::string similarity_table(const SimilarityResult& result);

// {"params", "rows": [{"true_rank", "rank_small", "rank_large", "diagonal",
// "principal_cosines", "chance"}], "seconds"}.
std::string similarity_json(const SimilarityResult& result);

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_REPORT_H_
