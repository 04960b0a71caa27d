// The restricted unpickler on its own: the real data.pkl decodes to the expected tree, and
// thousands of deterministic mutations of it (and of random bytes) end in a value or a
// one-line error -- never a crash, a hang or an exception.
#include "io/unpickler.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "io/zip_reader.h"
#include "support/shared_data.h"

namespace lorank::io {
namespace {

std::string real_pickle() {
  const std::string file =
      testing::read_text_file(testing::shared_path("adapters/gpt2-great-bin-r8/adapter_model.bin"));
  auto zip = ZipReader::parse(std::as_bytes(std::span<const char>(file.data(), file.size())));
  EXPECT_TRUE(zip.has_value());
  const ZipEntry* e = zip->find("adapter_model/data.pkl");
  EXPECT_NE(e, nullptr);
  return {reinterpret_cast<const char*>(e->data.data()), e->data.size()};
}

Result<PickleValue> run(const std::string& s) {
  return unpickle(std::as_bytes(std::span<const char>(s.data(), s.size())));
}

TEST(Unpickler, RealStateDictTree) {
  const std::string pkl = real_pickle();
  auto v = run(pkl);
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  const PickleObject& root = v->objects[v->root];
  ASSERT_EQ(root.kind, PickleKind::kDict);
  EXPECT_FALSE(root.ordered);
  EXPECT_EQ(root.items.size(), 48u);
  EXPECT_EQ(v->storages.size(), 24u);
  EXPECT_EQ(v->tensors.size(), 24u);
  EXPECT_EQ(v->storages[0].location, "cuda:0");
  EXPECT_EQ(v->storages[1].numel, 18432);
  EXPECT_EQ(v->tensors[1].size, (std::vector<int64_t>{2304, 8}));
  EXPECT_EQ(v->tensors[1].stride, (std::vector<int64_t>{8, 1}));
}

TEST(Unpickler, MutationsNeverCrash) {
  const std::string pkl = real_pickle();
  std::mt19937_64 rng(20240607);
  int ok = 0, failed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = pkl;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = static_cast<char>(rng());
          break;
        case 1:
          s.erase(at, 1 + rng() % 8);
          break;
        default:
          s.insert(at, 1, static_cast<char>(rng()));
          break;
      }
      if (s.empty()) s.assign(1, 'N');  // not s = "N": GCC 12 -Wrestrict false positive
    }
    auto v = run(s);
    if (v.has_value()) {
      ++ok;
    } else {
      ++failed;
      EXPECT_EQ(v.error().message().find('\n'), std::string::npos) << v.error().message();
      EXPECT_EQ(v.error().message().rfind("pickle byte ", 0), 0u) << v.error().message();
    }
  }
  EXPECT_GT(failed, 2000);
  for (int round = 0; round < 2000; ++round) {
    std::string s(1 + rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    (void)run(s);
  }
}

}  // namespace
}  // namespace lorank::io
