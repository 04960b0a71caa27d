#include "cli/commands.h"
#include "lorank/terminal_text.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace lorank::cli {

void print_messages(const std::vector<std::string>& lines, std::string_view kind) {
  for (const std::string& line : lines) {
    fmt::print(stderr, "lorank: {}: {}\n", kind, escape_for_terminal(line));
  }
}

int CommandRegistry::run_selected(const CLI::App& app) const {
  for (const auto& [sub, run] : commands_) {
    if (sub->parsed()) return run();
  }
  return usage_error("no command given (try --help)");
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// [-]digits[.digits][e[+-]digits], with digits on at least one side of the point.
bool is_decimal_number(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  std::string_view mantissa = s.substr(0, s.find_first_of("eE"));
  if (mantissa.size() < s.size()) {
    std::string_view exponent = s.substr(mantissa.size() + 1);
    if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) exponent.remove_prefix(1);
    if (!all_digits(exponent)) return false;
  }
  const std::size_t point = mantissa.find('.');
  if (point == std::string_view::npos) return all_digits(mantissa);
  const std::string_view whole = mantissa.substr(0, point), frac = mantissa.substr(point + 1);
  return (whole.empty() || all_digits(whole)) && (frac.empty() || all_digits(frac)) &&
         !(whole.empty() && frac.empty());
}

// The items of "a, b,c": split at commas, spaces around each item dropped.
std::vector<std::string> list_items(const std::string& text) {
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    std::string item = text.substr(pos, end - pos);
    const std::size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    items.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    pos = end + 1;
  }
  return items;
}

// Checks one value of an option of CLI11 type `type` (INT, UINT or FLOAT) and rewrites an
// integer without leading zeros, so that CLI11's base-0 conversion cannot read it as octal.
std::string check_decimal(std::string& text, std::string_view type) {
  if (type == "FLOAT") {
    if (is_decimal_number(text)) return "";
    return fmt::format("expected a decimal number (like 0.5 or 1e-3), got '{}'", text);
  }
  const bool negative = type == "INT" && !text.empty() && text[0] == '-';
  const std::string_view digits = std::string_view(text).substr(negative ? 1 : 0);
  if (!all_digits(digits)) {
    return fmt::format("expected a whole number{} in decimal, got '{}'",
                       type == "UINT" ? " >= 0" : "", text);
  }
  const std::size_t first = std::min(digits.find_first_not_of('0'), digits.size() - 1);
  text = (negative ? "-" : "") + std::string(digits.substr(first));
  return "";
}

}  // namespace

Result<std::vector<int>> parse_int_list(const std::string& text, std::string_view flag) {
  std::vector<int> out;
  for (const std::string& item : list_items(text)) {
    int value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("{}: '{}' is not a whole number (expected a list like 2,4,16)", flag,
                              item);
    }
    out.push_back(value);
  }
  return out;
}

Result<std::vector<double>> parse_decimal_list(const std::string& text, std::string_view flag) {
  std::vector<double> out;
  for (const std::string& item : list_items(text)) {
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (!is_decimal_number(item) || ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("{}: '{}' is not a decimal number (expected a list like 1,0.5,-1)",
                              flag, item);
    }
    out.push_back(value);
  }
  return out;
}

void require_decimal_numbers(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    // The type name is "INT", "UINT", "FLOAT" or "TEXT", then ":"-separated checks.
    const std::string full = option->get_type_name();
    const std::string type = full.substr(0, full.find(':'));
    if (type != "INT" && type != "UINT" && type != "FLOAT") continue;
    option->transform(
        CLI::Validator([type](std::string& text) { return check_decimal(text, type); }, ""));
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    require_decimal_numbers(*sub);
  }
}

std::string describe_parse_error(const CLI::App& app, int argc, char** argv,
                                 const CLI::ParseError& error) {
  // CLI11 says "A subcommand is required" for a misspelt command too: name it instead.
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    known = known || (argc >= 2 && sub->get_name() == argv[1]);
  }
  if (argc >= 2 && argv[1][0] != '-' && !known) {
    return fmt::format("unknown command '{}' (try 'lorank --help')", argv[1]);
  }
  return fmt::format("{} (try 'lorank{} --help')", error.what(),
                     argc >= 2 && argv[1][0] != '-' ? std::string(" ") + argv[1] : "");
}

int usage_error(std::string_view message) {
  fmt::print(stderr, "lorank: error: {}\n", escape_for_terminal(message));
  std::fflush(stderr);
  return kExitUsage;
}

bool looks_like_html(std::span<const std::byte> head) {
  constexpr std::string_view kDoctype = "<!DOCTYPE html>";
  return head.size() >= kDoctype.size() &&
         std::string_view(reinterpret_cast<const char*>(head.data()), kDoctype.size()) == kDoctype;
}

int write_verified_adapter(const Adapter& adapter, const std::string& out, bool overwrite,
                           bool verify_output, BeforePublish verify) {
  AdapterWriteOptions options;
  options.overwrite = overwrite;
  if (verify_output) options.before_publish = std::move(verify);
  if (Status s = write_adapter(adapter, out, options); !s.ok()) return report_failure(s);
  return kExitOk;
}

int report_failure(const Status& status) {
  if (status.code() == StatusCode::kInternal) return report_internal_error(status.to_string());
  fmt::print(stderr, "lorank: error: {}\n", escape_for_terminal(status.to_string()));
  std::fflush(stderr);
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int report_internal_error(std::string_view what) {
  fmt::print(stderr, "lorank: error: internal error: {} (this is a bug in lorank; please report it)\n",
             what);
  std::fflush(stderr);
  return kExitInternal;
}

}  // namespace lorank::cli
