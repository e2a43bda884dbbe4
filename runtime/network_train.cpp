// `gradc train`: compile the network with its main(), build it with the system C++ compiler
// (cached by a hash of the source and the build command) and run it.

#include "runtime/network.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace gradc::net {

namespace {
namespace fs = std::filesystem;

std::string hex_hash(const std::string& text) { // FNV-1a, 64 bits
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (unsigned char c : text)
        hash = (hash ^ c) * 0x100000001b3ull;
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
    return out;
}

fs::path cache_directory() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "gradc";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "gradc";
    return fs::temp_directory_path() / "gradc-cache";
}

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Builds `program` from `code` unless a build of the same code with the same command exists.
fs::path build(const std::string& code) {
    const char* cxx = std::getenv("CXX");
    const std::string compiler = cxx && *cxx ? cxx : "c++";
    const std::string flags =
        "-std=c++17 -O3 -march=native -mprefer-vector-width=512 -fno-math-errno";
    const fs::path dir = cache_directory() / hex_hash(compiler + "\n" + flags + "\n" + code);
    const fs::path program = dir / "train";
    if (fs::exists(program)) return program;
    fs::create_directories(dir);
    const fs::path source = dir / "train.cpp";
    std::ofstream(source) << code;
    const fs::path partial = dir / ("train.partial." + std::to_string(getpid()));
    const std::string command = compiler + " " + flags + " -o " + quoted(partial.string()) + " " +
                                quoted(source.string()) + " -lz";
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("the generated training program did not compile (" + command +
                                 ")");
    fs::rename(partial, program);
    return program;
}
} // namespace

int train_network(const std::string& net_path, const TrainOptions& options) {
    SourceFile source = SourceFile::load(net_path);
    CompileOptions compile;
    compile.scalar_type = options.scalar_type;
    compile.with_main = true;
    const fs::path program = build(compile_network(source, compile));

    std::vector<std::string> args = {program.string(), "--data-dir",
                                     fs::absolute(net_path).parent_path().string()};
    if (options.epochs) args.insert(args.end(), {"--epochs", std::to_string(*options.epochs)});
    if (!options.data.empty()) { // relative to the working directory, not the .net file
        std::string paths;
        for (std::size_t start = 0; start <= options.data.size();) {
            std::size_t comma = std::min(options.data.find(',', start), options.data.size());
            paths += (paths.empty() ? "" : ",") +
                     fs::absolute(options.data.substr(start, comma - start)).string();
            start = comma + 1;
        }
        args.insert(args.end(), {"--data", paths});
    }
    if (options.json) args.push_back("--json");
    if (!options.save.empty()) args.insert(args.end(), {"--save", options.save});

    std::fflush(stdout);
    pid_t child = fork();
    if (child < 0) throw std::runtime_error("cannot start " + program.string());
    if (child == 0) {
        std::vector<char*> argv;
        for (std::string& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

} // namespace gradc::net
