// SPDX-License-Identifier: MIT
#include "core/env.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace fdk {
namespace {

std::mutex g_reported_mu;
std::vector<std::string> g_reported;  // variables already reported

// True the first time name is reported in this process.
bool first_report(const char *name) {
  std::lock_guard<std::mutex> lock(g_reported_mu);
  for (const auto &n : g_reported)
    if (n == name) return false;
  g_reported.emplace_back(name);
  return true;
}

}  // namespace

int env_choice(const char *name, std::initializer_list<const char *> choices) {
  const char *value = secure_getenv(name);
  if (!value || !*value) return -1;
  int index = 0;
  for (const char *c : choices) {
    if (strcmp(value, c) == 0) return index;
    ++index;
  }
  if (first_report(name)) {
    std::string expected;
    for (const char *c : choices) expected += (expected.empty() ? "" : ", ") + std::string(c);
    fprintf(stderr, "fdkit: ignoring %s=\"%s\": expected one of %s\n", name, value, expected.c_str());
  }
  return -1;
}

}  // namespace fdk
