#pragma once
// How the forgery tasks write numbers into their tables.

#include <cstdio>
#include <string>

namespace loupe::forgery {

// `v` with `digits` decimals, e.g. fixed(0.12345, 3) == "0.123".
inline std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace loupe::forgery
