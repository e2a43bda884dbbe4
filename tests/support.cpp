#include "support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <doctest/doctest.h>

namespace gradc::test {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string work_dir(const std::string& name) {
    const std::filesystem::path dir = std::filesystem::path(GRADC_TEST_WORK_DIR) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

CommandResult run(const std::string& command) {
    static int counter = 0;
    std::filesystem::create_directories(GRADC_TEST_WORK_DIR);
    const std::string base = std::string(GRADC_TEST_WORK_DIR) + "/run_" +
                             std::to_string(::getpid()) + "_" + std::to_string(counter++);
    const std::string out_path = base + ".out", err_path = base + ".err";
    const int raw = std::system((command + " >" + out_path + " 2>" + err_path).c_str());
    CommandResult result{WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw),
                         read_file(out_path), read_file(err_path)};
    std::remove(out_path.c_str());
    std::remove(err_path.c_str());
    return result;
}

std::string source_dir() {
    return GRADC_SOURCE_DIR;
}
std::string gradc_binary() {
    return GRADC_BINARY;
}
std::string gxx() {
    return GRADC_TEST_GXX;
}
std::string clangxx() {
    return GRADC_TEST_CLANG;
}

std::string build_and_run(const std::string& dir, const std::string& compiler,
                          const std::string& flags, const std::string& exe) {
    const CommandResult built = run(compiler + " -std=c++17 " + flags + " -I" + dir + " " + dir +
                                    "/driver.cpp -o " + dir + "/" + exe);
    INFO(compiler << " " << flags << ":\n" << built.err.substr(0, 4000));
    REQUIRE(built.status == 0);
    const CommandResult r = run("cd " + dir + " && ./" + exe);
    REQUIRE(r.status == 0);
    return r.out;
}

} // namespace gradc::test
