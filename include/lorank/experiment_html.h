// Self-contained HTML pages (inline CSS + SVG, no network) for the experiments, drawn
// with the audit report's SVG writer and style.
#ifndef LORANK_EXPERIMENT_HTML_H_
#define LORANK_EXPERIMENT_HTML_H_

#include <string>

#include "lorank/experiment.h"

namespace lorank {

// Heatmap of the final rel. error (log colour) over true rank × allocated rank, each cell
// annotated with its error and the Eckart–Young optimum; the diagonal r = k outlined.
std::string sweep_html(const SweepResult& result);

// Per rank r > k: the trailing singular values σ_{k+1..r} of B·A over the training steps
// against the noise matrix's top singular values; and train/held-out error vs r.
std::string noise_html(const NoiseResult& result);

// Learning curves (training MSE, log scale) per rule × optimizer at each learning rate,
// one line per rank; the noise floor marked.
std::string scaling_html(const ScalingResult& result);

// φ(i, i) for i = 1..k per true rank, against the chance level k/dim.
std::string similarity_html(const SimilarityResult& result);

}  // namespace lorank

#endif  // LORANK_EXPERIMENT_HTML_H_
