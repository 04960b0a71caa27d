// RankRule parsing and every rule's exact semantics on hand-made spectra; snapping.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lorank/rank.h"

namespace lorank {
namespace {

RankRule rule(const std::string& spec) {
  Result<RankRule> r = RankRule::parse(spec);
  EXPECT_TRUE(r) << spec << ": " << r.error().message();
  return r ? *r : RankRule();
}

int rank_of(const std::string& spec, const std::vector<double>& sv, std::size_t max_rank = 100) {
  return rule(spec).apply(sv, max_rank);
}

// The anchors' replica (specs/anchors.md §c): σ = [10, 6, 3, 1, 0.5, …] with a tail of
// small values as kohya's dense SVD has.
const std::vector<double> kReplica = {10, 6, 3, 1, 0.5, 0.25, 0.1, 0.05};

TEST(RankRule, DefaultIsThresholdOnePercent) {
  EXPECT_EQ(RankRule().to_string(), "threshold:0.01");
  EXPECT_EQ(RankRule().kind(), RankRule::Kind::kThreshold);
  EXPECT_EQ(rule("threshold:0.01"), RankRule());
}

TEST(RankRule, ParseAndToStringRoundTrip) {
  for (const std::string spec :
       {"threshold:0.01", "energy:0.9", "peft:0.95", "kohya-ratio:4", "kohya-fro:0.9",
        "kohya-cumulative:0.9", "lycoris-ratio:0.1", "lycoris-quantile:0.5", "entropy", "gap",
        "fixed:8", "energy:1", "threshold:0.125"}) {
    EXPECT_EQ(rule(spec).to_string(), spec);
    EXPECT_EQ(rule(rule(spec).to_string()), rule(spec));
  }
}

TEST(RankRule, ParseErrorsNameTheSyntax) {
  for (const std::string bad : {"",
                                "thresh:0.1",
                                "threshold",
                                "threshold:",
                                "threshold:abc",
                                "threshold:0.1x",
                                "threshold:0",
                                "threshold:1.5",
                                "threshold:nan",
                                "threshold:inf",
                                "energy:0",
                                "energy:1.01",
                                "kohya-ratio:0.5",
                                "kohya-fro:2",
                                "lycoris-ratio:-0.1",
                                "fixed:0",
                                "fixed:2.5",
                                "entropy:3",
                                "gap:1",
                                "Energy:0.9"}) {
    Result<RankRule> r = RankRule::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message().find(bad.empty() ? "rank rule" : bad), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find(":P"), std::string::npos) << r.error().message();
  }
}

TEST(RankRule, KohyaReplicaFromAnchors) {
  EXPECT_EQ(rank_of("kohya-ratio:4", kReplica), 4);         // #{σ > 2.5} = 3, +1
  EXPECT_EQ(rank_of("kohya-cumulative:0.9", kReplica), 4);  // minimal 3, +1
  EXPECT_EQ(rank_of("kohya-fro:0.9", kReplica), 3);         // energy 0.81: minimal 2, +1
}

TEST(RankRule, KohyaClampsAndZeroRule) {
  // clamp(idx, 1, n-1) + 1: a criterion met by σ₁ alone still keeps 2.
  EXPECT_EQ(rank_of("kohya-ratio:1", kReplica), 2);
  // All values needed: searchsorted gives n−1, idx n → clamp n−1 → +1 = n.
  EXPECT_EQ(rank_of("kohya-cumulative:1", kReplica), 8);
  // Capped at the module's current rank.
  EXPECT_EQ(rank_of("kohya-ratio:4", kReplica, 3), 3);
  // n == 1: max(1, min(idx, 0)) + 1 = 2, capped at 1.
  EXPECT_EQ(rank_of("kohya-fro:0.5", {2.0}, 1), 1);
  // σ₁ ≤ 1e-6 of the unscaled spectrum → 1, whatever the criterion; scale is taken out.
  const std::vector<double> tiny = {5e-7, 4e-7, 3e-7};
  EXPECT_EQ(rule("kohya-fro:0.99").apply(tiny, 3), 1);
  EXPECT_EQ(rule("kohya-fro:0.99").apply(tiny, 3, /*scale=*/1e-3), 3);  // unscaled σ₁ = 5e-4
  // Exactly zero: untrained, 0 (lorank's rule for every rule).
  EXPECT_EQ(rank_of("kohya-ratio:4", {0.0, 0.0}), 0);
}

TEST(RankRule, ThresholdEnergyAndPeft) {
  EXPECT_EQ(rank_of("threshold:0.01", kReplica), 7);  // σ ≥ 0.1: all but 0.05
  EXPECT_EQ(rank_of("threshold:0.1", kReplica), 4);   // σ ≥ 1: 10, 6, 3, 1
  EXPECT_EQ(rank_of("threshold:1", kReplica), 1);
  // Energies 100, 136, 145, 146, ... of 146.3525: 0.683, 0.929, 0.991.
  EXPECT_EQ(rank_of("energy:0.9", kReplica), 2);
  EXPECT_EQ(rank_of("energy:0.99", kReplica), 3);
  EXPECT_EQ(rank_of("peft:0.99", kReplica), 3);
  EXPECT_EQ(rank_of("energy:1", kReplica), 8);
  // PEFT's float rank is kohya sv_fro(√t) minus kohya's +1 (anchors §c).
  EXPECT_EQ(rank_of("energy:0.81", kReplica) + 1, rank_of("kohya-fro:0.9", kReplica));
}

TEST(RankRule, Lycoris) {
  EXPECT_EQ(rank_of("lycoris-ratio:0.25", kReplica), 3);  // #{σ > 2.5}
  EXPECT_EQ(rank_of("lycoris-ratio:1", kReplica), 1);     // none > σ₁, then at least 1
  // Σσ = 20.9; cumulative 10, 16, 19, 20, ...: #{cum < 0.9·20.9 = 18.81} = 2, one fewer
  // than the minimal count reaching 0.9 (kohya-cumulative's minimal 3).
  EXPECT_EQ(rank_of("lycoris-quantile:0.9", kReplica), 2);
  EXPECT_EQ(rank_of("lycoris-quantile:0", kReplica), 1);
}

TEST(RankRule, EntropyGapFixed) {
  EXPECT_EQ(rank_of("entropy", std::vector<double>(6, 1.0)), 6);
  EXPECT_EQ(rank_of("entropy", {1.0, 0.0, 0.0}), 1);
  EXPECT_EQ(rank_of("gap", {1.0, 0.9, 0.01, 0.009}), 2);
  EXPECT_EQ(rank_of("gap", {3.0}, 1), 1);
  EXPECT_EQ(rank_of("gap", {3.0, 1.0, 0.0}), 2);  // the capped gap at the last non-zero value
  EXPECT_EQ(rank_of("fixed:4", kReplica), 4);
  EXPECT_EQ(rank_of("fixed:64", kReplica, 8), 8);
  EXPECT_EQ(rank_of("fixed:4", {0.0, 0.0, 0.0, 0.0}), 0);  // untrained stays 0
}

TEST(RankRule, NeverAboveCurrentRankNeverZeroWhenTrained) {
  const std::vector<std::vector<double>> spectra = {
      kReplica, {1.0}, std::vector<double>(8, 0.02), {5.0, 1.0, 0.0, 0.0}, {1e-300, 1e-301}};
  for (const std::string spec : {"threshold:0.01", "energy:0.9", "peft:1", "kohya-ratio:2",
                                 "kohya-fro:0.5", "kohya-cumulative:0.99", "lycoris-ratio:0.5",
                                 "lycoris-quantile:1", "entropy", "gap", "fixed:1000"}) {
    for (const auto& sv : spectra) {
      for (std::size_t max_rank = 1; max_rank <= sv.size(); ++max_rank) {
        const int k = rule(spec).apply(sv, max_rank);
        EXPECT_GE(k, 1) << spec;
        EXPECT_LE(k, static_cast<int>(max_rank)) << spec;
      }
      EXPECT_EQ(rule(spec).apply(sv, 0), 0) << spec;
      EXPECT_EQ(rule(spec).apply({}, 4), 0) << spec;
    }
  }
}

TEST(Snap, VllmPow2AndCaps) {
  EXPECT_EQ(snap_rank(5, Snap::kNone, 16), 5);
  EXPECT_EQ(snap_rank(1, Snap::kVllm, 64), 1);
  EXPECT_EQ(snap_rank(2, Snap::kVllm, 64), 8);
  EXPECT_EQ(snap_rank(17, Snap::kVllm, 64), 32);
  EXPECT_EQ(snap_rank(300, Snap::kVllm, 1024), 320);
  EXPECT_EQ(snap_rank(321, Snap::kVllm, 1024), 512);
  EXPECT_EQ(snap_rank(700, Snap::kVllm, 1024), 512);  // vLLM's maximum
  EXPECT_EQ(snap_rank(5, Snap::kVllm, 6), 6);         // never above the current rank
  EXPECT_EQ(snap_rank(5, Snap::kPow2, 16), 8);
  EXPECT_EQ(snap_rank(8, Snap::kPow2, 16), 8);
  EXPECT_EQ(snap_rank(9, Snap::kPow2, 12), 12);
  EXPECT_EQ(snap_rank(0, Snap::kVllm, 16), 0);  // untrained stays 0
  EXPECT_EQ(snap_rank(3, Snap::kPow2, 0), 0);
  ASSERT_TRUE(parse_snap("vllm"));
  EXPECT_EQ(*parse_snap("pow2"), Snap::kPow2);
  EXPECT_EQ(snap_name(*parse_snap("none")), "none");
  EXPECT_FALSE(parse_snap("VLLM"));
  EXPECT_NE(parse_snap("x").error().message().find("vllm"), std::string::npos);
}

}  // namespace
}  // namespace lorank
