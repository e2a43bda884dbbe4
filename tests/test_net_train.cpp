// Training programs built from `.net` files (`--main`): xor learns, data errors name the file and
// line, weights are saved, `gradc train` builds once and reuses its cache, and the Fashion-MNIST
// MLP reaches 85% test accuracy (skipped when Debian's dataset-fashion-mnist is not installed).

#include "runtime/network.hpp"
#include "support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>
#include <sys/stat.h>

namespace {
using namespace gradc;

// Builds the training program of samples/NAME.net (-O2, warnings as errors) into `dir`.
std::string build_sample(const std::string& name, const std::string& dir,
                         const std::string& flags = "-O2") {
    const std::string path = test::source_dir() + "/samples/" + name + ".net";
    net::CompileOptions options;
    options.with_main = true;
    test::write_file(dir + "/main.cpp", net::compile_network(SourceFile::load(path), options));
    const std::string binary = dir + "/" + name;
    test::CommandResult built =
        test::run(test::gxx() + " -std=c++17 " + flags + " -Wall -Wextra -Wpedantic -Werror " +
                  dir + "/main.cpp -o " + binary + " -lz");
    REQUIRE_MESSAGE(built.status == 0, built.err);
    return binary;
}

// The value of "key": in the last JSON line of `out` that has it.
double json_value(const std::string& out, const std::string& key) {
    std::size_t at = out.rfind("\"" + key + "\": ");
    REQUIRE(at != std::string::npos);
    return std::stod(out.substr(at + key.size() + 4));
}

} // namespace

TEST_CASE("net train: xor reaches 100% accuracy, and --json prints one object per epoch") {
    const std::string dir = test::work_dir("net_xor");
    const std::string binary = build_sample("xor", dir);
    test::CommandResult result = test::run(binary + " --json --data-dir " + test::source_dir() +
                                           "/samples --save " + dir + "/w.txt");
    REQUIRE_MESSAGE(result.status == 0, result.err);
    CHECK(result.out.rfind("{\"epoch\": 1, \"loss\": ", 0) == 0);
    CHECK(json_value(result.out, "accuracy") == 1.0);
    CHECK(json_value(result.out, "loss") < 0.01);
    std::string weights = test::read_file(dir + "/w.txt");
    CHECK(weights.rfind("gradc-net xor_ 42\n", 0) == 0); // `xor` is a C++ keyword
}

TEST_CASE("net train: data errors name the file and the line") {
    const std::string dir = test::work_dir("net_data_errors");
    const std::string binary = build_sample("xor", dir, "-O0");
    auto error_for = [&](const std::string& csv) {
        test::write_file(dir + "/data.csv", csv);
        test::CommandResult result = test::run(binary + " --data " + dir + "/data.csv");
        CHECK(result.status == 1);
        return result.err;
    };
    CHECK(error_for("a,b,label\n0,0,0\n0,1\n") ==
          dir + "/data.csv:3: error: expected 3 columns (2 inputs, 1 targets), found 2\n");
    CHECK(error_for("0,0,0\n0,x,1\n") == dir + "/data.csv:2: error: `x` is not a number\n");
    CHECK(error_for("0,0,0\n0,1,2\n") ==
          dir + "/data.csv:2: error: label 2 is not a class in 0..1\n");
    CHECK(error_for("a,b,c\n") == dir + "/data.csv: error: no data rows\n");
    test::CommandResult missing = test::run(binary + " --data " + dir + "/none.csv");
    CHECK(missing.status == 1);
    CHECK(missing.err == dir + "/none.csv: error: cannot open file\n");
}

TEST_CASE("net train: gradc train builds once, caches, and runs") {
    const std::string dir = test::work_dir("net_train_cache");
    setenv("XDG_CACHE_HOME", dir.c_str(), 1);
    net::TrainOptions options;
    options.epochs = 1;
    options.scalar_type = "double";
    const std::string net = test::source_dir() + "/samples/td1.net";
    CHECK(net::train_network(net, options) == 0);
    test::CommandResult listing = test::run("ls " + dir + "/gradc");
    CHECK(listing.out.find('\n') == listing.out.size() - 1); // one cached build
    CHECK(net::train_network(net, options) == 0);
    CHECK(test::run("ls " + dir + "/gradc").out == listing.out);
}

TEST_CASE("net train: the Fashion-MNIST MLP reaches 85% test accuracy in 3 epochs") {
    struct stat info;
    if (stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &info) != 0) {
        MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
        return;
    }
    const std::string dir = test::work_dir("net_fashion");
    const std::string binary = build_sample("fashion_mlp", dir, "-O3 -march=native");
    test::CommandResult result = test::run(binary + " --json");
    REQUIRE_MESSAGE(result.status == 0, result.err);
    MESSAGE(result.out);
    CHECK(json_value(result.out, "test_accuracy") >= 0.85);
}
