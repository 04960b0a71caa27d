// The "Reading" lines of demo and experiment say only what their numbers show: no talk of
// fitting noise with --noise 0, no "over-allocated" or "extra rank" when no rank exceeds the
// true rank, no comparison with a single rank, no reading of diverged fits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/run_command.h"

namespace lorank {
namespace {

using lorank::testing::run_lorank;

std::string reading(const std::vector<std::string>& args) {
  const auto r = run_lorank(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::size_t at = r.out.find("\nReading");
  EXPECT_NE(at, std::string::npos) << r.out;
  return at == std::string::npos ? std::string() : r.out.substr(at);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ReadingCli, DemoWithNoiseSpeaksOfTheNoiseFloor) {
  const std::string text = reading({"demo", "--steps", "1000"});
  EXPECT_TRUE(has(text, "4 directions above the noise floor):\n")) << text;
  EXPECT_TRUE(has(text, "  r = 16: over-allocated: still 4 directions above the noise floor; the other 12 sit at "))
      << text;
  EXPECT_TRUE(has(text, "noise-floor scale")) << text;
  EXPECT_TRUE(has(text, "\n  Extra rank does not add directions: it fits the noise, converging toward the noise floor.\n"))
      << text;
}

TEST(ReadingCli, DemoWithoutNoiseNeverSpeaksOfFittingIt) {
  const std::string text = reading({"demo", "--noise", "0", "--steps", "1000"});
  EXPECT_FALSE(has(text, "fits the noise")) << text;
  EXPECT_FALSE(has(text, "above the noise floor")) << text;
  EXPECT_FALSE(has(text, "noise-floor scale")) << text;
  EXPECT_TRUE(has(text, "4 directions above 1e-3 of sigma_1 (no noise)):\n")) << text;
  EXPECT_TRUE(has(text, "  noise floor: none (--noise 0): the target is exactly rank 4\n")) << text;
  EXPECT_TRUE(has(text, ", near zero; rel err ")) << text;
  EXPECT_TRUE(has(text, "\n  Extra rank does not add directions: with no noise there is nothing more to fit, and the extra directions stay near zero.\n"))
      << text;
}

TEST(ReadingCli, DemoWithNoRankAboveTheTrueRankHasNoExtraRank) {
  const std::string text = reading({"demo", "--true-rank", "16", "--steps", "1000"});
  EXPECT_FALSE(has(text, "over-allocated")) << text;
  EXPECT_FALSE(has(text, "Extra rank")) << text;
  EXPECT_TRUE(has(text, "  r = 4: under-fits: 4 < 16 strong directions;")) << text;
  EXPECT_TRUE(has(text, "\n  No allocated rank exceeds the target's 16 strong directions, so none has extra rank to spend.\n"))
      << text;
}

TEST(ReadingCli, DemoWhereEveryRunDivergedSaysSo) {
  const std::string text = reading({"demo", "--lr", "100", "--steps", "200"});
  EXPECT_FALSE(has(text, "Extra rank")) << text;
  EXPECT_TRUE(has(text, "  r = 2: diverged (lr too large for this target's scale)\n")) << text;
  EXPECT_TRUE(has(text, "\n  Every run diverged: lower --lr to read the ranks.\n")) << text;
}

TEST(ReadingCli, NoiseExperimentConcludesOnlyWhatItsNumbersShow) {
  const std::vector<std::string> base = {"experiment", "noise", "--steps", "2000",
                                         "--record-every", "500"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return reading(args);
  };
  const std::string noisy = with({});
  EXPECT_TRUE(has(noisy, "the training error falls ")) << noisy;
  EXPECT_TRUE(has(noisy, "the held-out error rises ")) << noisy;
  EXPECT_TRUE(has(noisy, ": the extra directions fit this draw of the noise, not the task.\n")) << noisy;
  EXPECT_TRUE(has(noisy, "they slowly learn the noise.\n")) << noisy;

  const std::string clean = with({"--noise", "0"});
  EXPECT_FALSE(has(clean, "fit this draw of the noise")) << clean;
  EXPECT_FALSE(has(clean, "learn the noise")) << clean;
  EXPECT_TRUE(has(clean, ": with no noise (--noise 0) there is nothing but the signal to fit.\n")) << clean;

  const std::string one = with({"--ranks", "4"});
  EXPECT_TRUE(one.starts_with("\nReading: one rank only (r = 4); give two or more --ranks to "
                              "compare what extra rank learns.\ndim "))
      << one;
  const std::string below = with({"--ranks", "2,4"});
  EXPECT_FALSE(has(below, "fit this draw of the noise")) << below;
  EXPECT_TRUE(has(below, ": no rank here exceeds the true rank 4, so none has extra directions to spend on the noise.\n"))
      << below;
}

TEST(ReadingCli, SweepReadingFollowsItsCells) {
  const std::string clean = reading({"experiment", "sweep", "--steps", "1000", "--noise", "0"});
  EXPECT_TRUE(has(clean, "\nReading: 10 of 30 cells have r < k and cannot fit the signal")) << clean;
  EXPECT_TRUE(has(clean, "; the error falls sharply at r = k and barely moves above it (largest gap to the optimum 0.0000)"))
      << clean;
  const std::string below =
      reading({"experiment", "sweep", "--steps", "500", "--true-ranks", "8", "--ranks", "1,2"});
  EXPECT_FALSE(has(below, "falls sharply")) << below;
  EXPECT_TRUE(has(below, "; no cell has r >= k, so none can fit the signal.\n")) << below;
  // 20 steps at lr 0.001 leave every cell far from its optimum: no "barely moves".
  const std::string early = reading({"experiment", "sweep", "--steps", "20", "--lr", "0.001",
                                     "--true-ranks", "2", "--ranks", "2,4"});
  EXPECT_FALSE(has(early, "barely moves")) << early;
  EXPECT_TRUE(has(early, "; 2 of the 2 cells with r >= k stay more than 0.01 above their optimum"))
      << early;
  const std::string diverged = reading({"experiment", "sweep", "--steps", "200", "--lr", "100",
                                        "--true-ranks", "2", "--ranks", "2,4"});
  EXPECT_TRUE(diverged.starts_with("\nReading: every cell diverged (lr too large); nothing to read.\n"))
      << diverged;
}

TEST(ReadingCli, SimilarityReadingWithoutNoiseHasNoNoiseFloor) {
  const std::string noisy = reading({"experiment", "similarity", "--steps", "1000"});
  EXPECT_TRUE(has(noisy, " coincide (every φ(k,k) ≥ ")) << noisy;
  EXPECT_TRUE(has(noisy, "it only adds directions at the noise floor")) << noisy;
  const std::string clean = reading({"experiment", "similarity", "--steps", "1000", "--noise", "0"});
  EXPECT_FALSE(has(clean, "noise floor")) << clean;
  EXPECT_TRUE(has(clean, "it only adds directions near zero (no noise)")) << clean;
}

TEST(ReadingCli, ScalingWithOneRankComparesNothing) {
  const std::string text = reading({"experiment", "scaling", "--ranks", "4", "--steps", "50"});
  EXPECT_FALSE(has(text, "no learning rate fits both")) << text;
  EXPECT_TRUE(has(text, "  adam standard: one rank only (r = 4): give two or more --ranks to compare speeds\n"))
      << text;
}

}  // namespace
}  // namespace lorank
