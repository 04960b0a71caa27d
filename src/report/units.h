// Numbers for people: counts and byte sizes as every report (text, HTML) prints them.
#ifndef LORANK_REPORT_UNITS_H_
#define LORANK_REPORT_UNITS_H_

#include <cstdint>
#include <string>

namespace lorank::report {

std::string short_count(std::uint64_t n);    // 159.91M, 12.3k, 512
std::string grouped_count(std::uint64_t n);  // 1,234,567
std::string human_bytes(std::uint64_t n);    // 305.0 MiB, 1.20 GiB, 512 B (binary units)

}  // namespace lorank::report

#endif  // LORANK_REPORT_UNITS_H_
