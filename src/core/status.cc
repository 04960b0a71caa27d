#include "lorank/status.h"

#include <cstdio>
#include <cstdlib>

#include "lorank/terminal_text.h"

namespace lorank {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kNotSupported: return "not supported";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kNumerical: return "numerical error";
    case StatusCode::kInternal: return "internal error";
    case StatusCode::kInvalidData: return "invalid data";
  }
  return "unknown";
}

// Messages quote names, paths and strings from hostile files. Escaping them here, once for
// every message, keeps each one a single safe line wherever it ends up (the CLI, a log, a
// Python exception); the escape is idempotent, so a caller that escapes again changes nothing.
Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) rep_ = std::make_unique<Rep>(Rep{code, escape_for_terminal(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::to_string() const { return rep_ ? rep_->message : std::string("OK"); }

Status Status::with_context(std::string_view context) const& {
  Status copy(*this);
  return std::move(copy).with_context(context);
}

Status Status::with_context(std::string_view context) && {
  if (rep_) rep_->message = fmt::format("{}: {}", escape_for_terminal(context), rep_->message);
  return std::move(*this);
}

namespace detail {

void die_on_value_of_error(const Status& status) {
  std::fprintf(stderr, "lorank: bug: Result::value() on an error (%s): %s\n",
               std::string(status_code_name(status.code())).c_str(), status.to_string().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail

}  // namespace lorank
