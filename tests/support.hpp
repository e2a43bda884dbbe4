#pragma once
// Helpers shared by the tests: running commands, temporary files, compiling emitted C++.

#include <string>

namespace gradc::test {

struct CommandResult {
    int status;      // the exit status
    std::string out; // standard output
    std::string err; // standard error
};

// Runs a shell command, capturing both streams.
CommandResult run(const std::string& command);

// A fresh directory under the build tree's test work folder, named after `name`.
std::string work_dir(const std::string& name);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// Paths set by tests/CMakeLists.txt.
std::string source_dir();   // the repository root
std::string gradc_binary(); // the built gradc
std::string gxx();          // the C++ compiler that built gradc
std::string clangxx();      // clang++, or "" when not installed

// Builds DIR/driver.cpp with `compiler -std=c++17 flags -IDIR` into DIR/EXE and runs it in DIR;
// requires both to succeed (the compiler's errors are shown) and returns what it prints.
std::string build_and_run(const std::string& dir, const std::string& compiler,
                          const std::string& flags, const std::string& exe = "driver");

} // namespace gradc::test
