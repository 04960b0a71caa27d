#include "lorank/status.h"

#include <gtest/gtest.h>

namespace lorank {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, FactoryFormatsMessage) {
  Status s = corruption("tensor '{}' ends at {} > {}", "w", 10, 8);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "tensor 'w' ends at 10 > 8");
}

TEST(Status, CopyIsDeepAndMoveLeavesOk) {
  Status a = io_error("disk");
  Status b = a;
  Status c = std::move(a);
  EXPECT_EQ(b.message(), "disk");
  EXPECT_EQ(c.message(), "disk");
  EXPECT_TRUE(a.ok());  // NOLINT(bugprone-use-after-move): pinned behaviour
}

TEST(Status, WithContextPrefixes) {
  Status s = not_found("no such tensor").with_context("reading 'a.safetensors'");
  EXPECT_EQ(s.message(), "reading 'a.safetensors': no such tensor");
  EXPECT_TRUE(Status().with_context("x").ok());
}

Result<int> half(int x) {
  if (x % 2) return invalid_argument("{} is odd", x);
  return x / 2;
}

Status use_half(int x, int* out) {
  LORANK_ASSIGN_OR_RETURN(*out, half(x));
  return Status();
}

TEST(Result, ValueAndErrorPaths) {
  Result<int> r = half(4);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2);
  Result<int> e = half(3);
  EXPECT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "3 is odd");
  int out = 0;
  EXPECT_TRUE(use_half(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(use_half(5, &out).code(), StatusCode::kInvalidArgument);
}

TEST(Result, FromOkStatusIsInternalError) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInternal);
}

TEST(Status, InvalidDataIsItsOwnCode) {
  Status s = invalid_data("module '{}': {} != {}", "q", 3, 4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidData);
  EXPECT_NE(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "module 'q': 3 != 4");
  EXPECT_EQ(status_code_name(s.code()), "invalid data");
}

// Reading the value of an error is a caller bug: it must stop with a message naming the
// status, in every accessor, not read an empty optional.
TEST(ResultDeathTest, ValueOfAnErrorAbortsNamingTheStatus) {
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  const Result<int> e = half(3);
  const char* expected = R"(lorank: bug: Result::value\(\) on an error \(invalid argument\): 3 is odd)";
  EXPECT_DEATH((void)e.value(), expected);
  EXPECT_DEATH((void)*e, expected);
  Result<std::string> s{corruption("bad header")};
  EXPECT_DEATH((void)s->size(), R"(on an error \(corruption\): bad header)");
  EXPECT_DEATH((void)std::move(s).value(), "bad header");
}

}  // namespace
}  // namespace lorank
