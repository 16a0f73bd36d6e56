// Helpers shared by the tests: fixture and corpus paths, skipping when they are absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aurelay::testing {

inline std::filesystem::path fixture_path(const std::string& name) {
  return std::filesystem::path(AURELAY_FIXTURES_DIR) / name;
}

// Path of a file in ../shared/corpus/, or empty when the shared folder is absent (a user's clone).
inline std::filesystem::path corpus_path(const std::string& name) {
  std::filesystem::path path = std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / name;
  return std::filesystem::exists(path) ? path : std::filesystem::path();
}

#define AURELAY_CORPUS_OR_SKIP(var, name)                                      \
  const std::filesystem::path var = ::aurelay::testing::corpus_path(name);     \
  if (var.empty()) GTEST_SKIP() << "shared corpus absent: " << (name)

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace aurelay::testing
