// Opening inputs safely and writing outputs safely (issue 11, items 2, 3, 6, 7): special
// files as inputs, --overwrite on what lorank did not write, verify before publish, the
// umask, long output names, audit --html, and a full stdout. Special files (FIFOs, symlink
// loops) cannot live in git, so each test makes them in a TempDir.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/adapter_builder.h"
#include "support/run_command.h"
#include "support/sha256.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::CommandOutput;
using lorank::testing::run_command;
using lorank::testing::run_lorank;
using lorank::testing::TempDir;

// lorank under a watchdog: a hang becomes exit 124 instead of a stuck test run.
CommandOutput run_lorank_within(int seconds, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/timeout", std::to_string(seconds), LORANK_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// `script` run by /bin/sh with $1 = the lorank binary and $2... = args.
CommandOutput run_shell(const std::string& script, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv{"/bin/sh", "-c", script, "sh", LORANK_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every entry under `root` (relative name → SHA-256 of a file's bytes, "dir" for a folder).
std::map<std::string, std::string> fingerprint(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string name = fs::relative(e.path(), root).string();
    out[name] = e.is_directory() ? "dir" : lorank::testing::sha256_hex(read_all(e.path()));
  }
  return out;
}

fs::path small_peft(const fs::path& dir) {
  AdapterBuilder b;
  b.peft_pair("base_model.model.layers.0.q_proj", 16, 4, 12);
  b.peft_pair("base_model.model.layers.1.q_proj", 16, 4, 12);
  b.config(R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8})");
  fs::create_directories(dir);
  return b.write(dir).parent_path();
}

fs::path small_kohya(const fs::path& dir, const std::string& name = "k.safetensors") {
  AdapterBuilder b;
  for (int i = 0; i < 2; ++i) {
    const std::string m = "lora_unet_block_" + std::to_string(i) + "_proj";
    b.add(m + ".lora_down.weight", {4, 12}, {}, DType::kF32)
        .add(m + ".lora_up.weight", {16, 4}, {}, DType::kF32)
        .add(m + ".alpha", {}, {4.0}, DType::kF32);
  }
  fs::create_directories(dir);
  return b.write(dir, name);
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// ------------------------------------------------------------------ opening inputs

TEST(OpenSafety, FifoAsWeightsIsRefusedAtOnce) {
  TempDir tmp;
  const fs::path fifo = tmp / "x.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* cmd : {"audit", "resize"}) {
    std::vector<std::string> args{cmd, fifo.string()};
    if (std::string(cmd) == "resize") args.insert(args.end(), {"-o", (tmp / "o.safetensors").string(), "--rank", "2"});
    const auto r = run_lorank_within(20, args);
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.err;  // 124 would be the old hang
    EXPECT_EQ(r.err, "lorank: error: adapter file '" + fifo.string() + "' is a FIFO, not a regular file\n");
  }
  // The same FIFO found inside a folder (the only *.safetensors there).
  const auto f = run_lorank_within(20, {"audit", tmp.path().string()});
  EXPECT_EQ(f.exit_code, 1) << f.err;
  EXPECT_NE(f.err.find("is a FIFO, not a regular file"), std::string::npos) << f.err;
}

TEST(OpenSafety, ConfigThatIsAFolderOrFifoIsNamedAsSuch) {
  TempDir tmp;
  const fs::path dir = small_peft(tmp / "a");
  const fs::path config = dir / "adapter_config.json";
  fs::remove(config);
  fs::create_directory(config);
  auto r = run_lorank_within(20, {"audit", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "lorank: error: adapter config '" + config.string() + "' is a directory, not a regular file\n");
  fs::remove(config);
  ASSERT_EQ(::mkfifo(config.c_str(), 0600), 0);
  r = run_lorank_within(20, {"audit", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "lorank: error: adapter config '" + config.string() + "' is a FIFO, not a regular file\n");
}

TEST(OpenSafety, SymlinkLoopAndLongNameAreOneClearLine) {
  TempDir tmp;
  const fs::path loop = tmp / "loop.safetensors";
  fs::create_symlink(loop.filename(), loop);  // points at itself
  auto r = run_lorank_within(20, {"audit", loop.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "lorank: error: '" + loop.string() + "': Too many levels of symbolic links\n");
  // The loop as a folder's config: found through symlink_status, reported by the open.
  const fs::path dir = small_peft(tmp / "a");
  fs::remove(dir / "adapter_config.json");
  fs::create_symlink("adapter_config.json", dir / "adapter_config.json");
  r = run_lorank_within(20, {"audit", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("symlink loop"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal"), std::string::npos) << r.err;

  const fs::path long_name = tmp / (std::string(300, 'n') + ".safetensors");
  r = run_lorank_within(20, {"audit", long_name.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "lorank: error: '" + long_name.string() + "': File name too long\n");
}

TEST(OpenSafety, PermissionDeniedIsExitOne) {
  TempDir tmp;
  const fs::path k = small_kohya(tmp.path());
  fs::permissions(k, fs::perms::none);
  // Root reads every file: run as nobody then (the folder must be searchable for it).
  fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  std::vector<std::string> argv{"/usr/bin/timeout", "20"};
  if (::geteuid() == 0) argv.insert(argv.end(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  argv.insert(argv.end(), {LORANK_CLI_PATH, "audit", k.string()});
  const auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "lorank: error: adapter file '" + k.string() + "': Permission denied\n");
}

// ------------------------------------------------------------- never destroy user files

TEST(OverwriteSafety, RefusesToReplaceAFolderOfUserFiles) {
  TempDir tmp;
  const fs::path in = small_peft(tmp / "in");
  const fs::path victim = tmp / "victim";
  fs::create_directories(victim / "deeper");
  std::ofstream(victim / "thesis.txt") << "four years of work\n";
  std::ofstream(victim / "deeper" / "data.csv") << "a,b\n1,2\n";
  const auto before = fingerprint(victim);
  const auto r = run_lorank({"resize", in.string(), "-o", victim.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "lorank: error: refusing to replace '" + victim.string() +
                       "': it holds the folder 'deeper', which lorank did not write\n");
  EXPECT_EQ(fingerprint(victim), before);
  // Without the subfolder, the stray file is named.
  fs::remove_all(victim / "deeper");
  const auto f = run_lorank({"resize", in.string(), "-o", victim.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(f.exit_code, 2) << f.err;
  EXPECT_EQ(f.err, "lorank: error: refusing to replace '" + victim.string() +
                       "': it holds 'thesis.txt', which lorank did not write\n");
  EXPECT_EQ(read_all(victim / "thesis.txt"), "four years of work\n");
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST(OverwriteSafety, ReplacesLoranksOwnOutput) {
  TempDir tmp;
  const fs::path in = small_peft(tmp / "in");
  const fs::path out = tmp / "out";
  ASSERT_EQ(run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "3"}).exit_code, 0);
  const auto rank3 = fingerprint(out);
  const auto r = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(fingerprint(out), rank3);  // replaced by the rank-2 output
  EXPECT_EQ(fingerprint(out).size(), 2u);
  // A PEFT model card next to the weights is a person's writing: not replaced.
  std::ofstream(out / "README.md") << "# my adapter\n";
  const auto m = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("it holds 'README.md', which lorank did not write"), std::string::npos) << m.err;
}

TEST(OverwriteSafety, FileTargetMustBeTheSameFormat) {
  TempDir tmp;
  const fs::path in = small_kohya(tmp / "in");
  const fs::path out = tmp / "out.safetensors";
  std::ofstream(out) << "not an adapter\n";
  auto r = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "lorank: error: refusing to replace '" + out.string() +
                       "': it is not a safetensors file, so lorank did not write it\n");
  EXPECT_EQ(read_all(out), "not an adapter\n");
  fs::remove(out);
  fs::create_directory(out);
  r = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "lorank: error: refusing to replace '" + out.string() +
                       "': it is a directory, not a safetensors file\n");
  fs::remove(out);
  ASSERT_EQ(run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "3"}).exit_code, 0);
  r = run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2", "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ------------------------------------------------------------------ verify, then publish

TEST(PublishSafety, FailedVerificationLeavesNothingAtOut) {
  TempDir tmp;
  for (const fs::path& in : {small_peft(tmp / "peft"), small_kohya(tmp / "kohya")}) {
    SCOPED_TRACE(in.string());
    const fs::path work = tmp / ("w-" + in.filename().string());
    fs::create_directories(work);
    const fs::path out = work / (in.extension() == ".safetensors" ? "out.safetensors" : "out");
    const auto r = run_command({"/usr/bin/env", "LORANK_TEST_BREAK_VERIFY=1", LORANK_CLI_PATH, "resize",
                                in.string(), "-o", out.string(), "--rank", "2"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("lorank: error: verify '" + out.string() + "': module '", 0), 0u) << r.err;
    EXPECT_TRUE(fs::is_empty(work)) << "something was published or left behind";
    // The same run without the hook publishes: the hook, not the writer, made it fail.
    EXPECT_EQ(run_lorank({"resize", in.string(), "-o", out.string(), "--rank", "2"}).exit_code, 0);
    EXPECT_TRUE(fs::exists(out));
  }
}

// A in F32 and B in BF16: B's rounding (2^-8) is what the check must allow, not A's (2^-24).
TEST(PublishSafety, VerifyToleranceUsesTheCoarserDtype) {
  TempDir tmp;
  AdapterBuilder b;
  for (int i = 0; i < 4; ++i) {
    const std::string m = "lora_unet_block_" + std::to_string(i) + "_proj";
    b.add(m + ".lora_down.weight", {8, 64}, {}, DType::kF32)
        .add(m + ".lora_up.weight", {64, 8}, {}, DType::kBF16)
        .add(m + ".alpha", {}, {8.0}, DType::kF32);
  }
  fs::create_directories(tmp / "in");
  const fs::path in = b.write(tmp / "in", "mixed.safetensors");
  const auto r = run_lorank({"resize", in.string(), "-o", (tmp / "out.safetensors").string(), "--rank", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp / "out.safetensors"));
}

// -------------------------------------------------------------------- modes and names

// The mode bits of what `resize` writes under `mask`.
std::vector<unsigned> modes_under_umask(const fs::path& in, const fs::path& out, const char* mask) {
  fs::remove_all(out);
  const auto r = run_shell(std::string("umask ") + mask + "; exec \"$1\" resize \"$2\" -o \"$3\" --rank 2",
                           {in.string(), out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<unsigned> modes;
  struct stat st;
  if (::stat(out.c_str(), &st) == 0) modes.push_back(st.st_mode & 07777);
  if (fs::is_directory(out)) {
    for (const char* f : {"adapter_config.json", "adapter_model.safetensors"}) {
      if (::stat((out / f).c_str(), &st) == 0) modes.push_back(st.st_mode & 07777);
    }
  }
  return modes;
}

TEST(OutputModes, HonourTheUmask) {
  TempDir tmp;
  const fs::path peft = small_peft(tmp / "peft");
  const fs::path kohya = small_kohya(tmp / "kohya");
  EXPECT_EQ(modes_under_umask(peft, tmp / "o1", "022"), (std::vector<unsigned>{0755, 0644, 0644}));
  EXPECT_EQ(modes_under_umask(peft, tmp / "o2", "077"), (std::vector<unsigned>{0700, 0600, 0600}));
  EXPECT_EQ(modes_under_umask(peft, tmp / "o3", "002"), (std::vector<unsigned>{0775, 0664, 0664}));
  EXPECT_EQ(modes_under_umask(kohya, tmp / "o.safetensors", "022"), (std::vector<unsigned>{0644}));
  EXPECT_EQ(modes_under_umask(kohya, tmp / "p.safetensors", "077"), (std::vector<unsigned>{0600}));
}

TEST(OutputNames, LongestLegalNamesWork) {
  TempDir tmp;
  const fs::path peft = small_peft(tmp / "peft");
  const fs::path kohya = small_kohya(tmp / "kohya");
  for (std::size_t length : {250u, 255u}) {
    const std::string suffix = ".safetensors";
    const fs::path file = tmp / (std::string(length - suffix.size(), 'f') + suffix);
    auto r = run_lorank({"resize", kohya.string(), "-o", file.string(), "--rank", "2"});
    EXPECT_EQ(r.exit_code, 0) << length << ": " << r.err;
    EXPECT_TRUE(fs::is_regular_file(file)) << length;
    const fs::path folder = tmp / std::string(length, 'd');
    r = run_lorank({"resize", peft.string(), "-o", folder.string(), "--rank", "2"});
    EXPECT_EQ(r.exit_code, 0) << length << ": " << r.err;
    EXPECT_TRUE(fs::is_regular_file(folder / "adapter_model.safetensors")) << length;
  }
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "temp left: " << e.path();
  }
  EXPECT_EQ(entries, 6u);  // peft, kohya, two files, two folders
}

// ---------------------------------------------------------------------- audit --html

TEST(AuditHtml, RefusesAnExistingFileWithoutOverwrite) {
  TempDir tmp;
  const fs::path in = small_kohya(tmp / "in");
  const fs::path html = tmp / "report.html";
  std::ofstream(html) << "<!DOCTYPE html>\n<p>an older report</p>\n";
  auto r = run_lorank({"audit", in.string(), "--html", html.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "lorank: error: refusing to overwrite existing '" + html.string() +
                       "' (overwrite not requested)\n");
  EXPECT_EQ(read_all(html), "<!DOCTYPE html>\n<p>an older report</p>\n");
  r = run_lorank({"audit", in.string(), "--html", html.string(), "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_all(html).rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(read_all(html), "<!DOCTYPE html>\n<p>an older report</p>\n");
  // --overwrite replaces an HTML page only.
  const fs::path notes = tmp / "notes.txt";
  std::ofstream(notes) << "my notes\n";
  r = run_lorank({"audit", in.string(), "--html", notes.string(), "--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "lorank: error: refusing to replace '" + notes.string() +
                       "': it is not an HTML report, so lorank did not write it\n");
  EXPECT_EQ(read_all(notes), "my notes\n");
}

TEST(AuditHtml, EmptyNameIsAUsageError) {
  TempDir tmp;
  const fs::path in = small_kohya(tmp / "in");
  const auto r = run_lorank({"audit", in.string(), "--html", ""});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--html needs a file name"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// ------------------------------------------------------------------------ full stdout

TEST(StdoutErrors, FullStdoutIsExitOne) {
  TempDir tmp;
  const fs::path in = small_kohya(tmp / "in");
  const std::vector<std::vector<std::string>> commands{
      {"demo", "--ranks", "2,4", "--steps", "50"},
      {"experiment", "sweep", "--dim", "16", "--true-ranks", "2", "--ranks", "2,4", "--steps", "20"},
      {"resize", in.string(), "--rank", "2", "--dry-run"},
      {"audit", in.string()},
      {"--help"},
      {"--version"},
  };
  for (const auto& args : commands) {
    std::string script = "exec \"$1\"";
    for (std::size_t i = 0; i < args.size(); ++i) script += " \"${" + std::to_string(i + 2) + "}\"";
    script += " > /dev/full";
    const auto r = run_shell(script, args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    // The dry run also prints its note on stderr; the error is the last line either way.
    const std::string want = "lorank: error: error writing to stdout: No space left on device\n";
    EXPECT_TRUE(r.err.size() >= want.size() && r.err.compare(r.err.size() - want.size(), want.size(), want) == 0)
        << args[0] << ": " << r.err;
  }
  // And the same commands still exit 0 on a working stdout (the check is not always on).
  EXPECT_EQ(run_lorank({"--version"}).exit_code, 0);
  EXPECT_EQ(run_lorank({"resize", in.string(), "--rank", "2", "--dry-run"}).exit_code, 0);
}

}  // namespace
}  // namespace lorank
