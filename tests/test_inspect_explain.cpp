// `gradc inspect` and `gradc explain` on the samples: golden outputs (tests/golden/inspect/, each
// read and checked by hand against the math before it was committed), the numbers of explain
// against the closed forms and against `eval`, DOT that Graphviz accepts, and the help texts.
// Regenerate the goldens with GRADC_UPDATE_GOLDEN=1, then read the diff before committing it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

using namespace gradc::test;
namespace fs = std::filesystem;

namespace {

// Runs gradc from the repository root, so outputs name `samples/...` whatever the build directory.
CommandResult run_gradc(const std::string& arguments) {
    return run("cd '" + source_dir() + "' && '" + gradc_binary() + "' " + arguments);
}

void check_golden(const std::string& name, const std::string& arguments) {
    CAPTURE(arguments);
    const CommandResult r = run_gradc(arguments);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const fs::path path = fs::path(source_dir()) / "tests/golden/inspect" / name;
    if (std::getenv("GRADC_UPDATE_GOLDEN")) write_file(path.string(), r.out);
    CHECK(r.out == read_file(path.string()));
}

bool contains(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
}

// The rows `dF/dX  REVERSE  FORWARD` of explain's gradient table.
std::vector<std::pair<double, double>> gradient_rows(const std::string& explained) {
    std::vector<std::pair<double, double>> rows;
    std::istringstream in(explained.substr(explained.find("Gradient of")));
    std::string line;
    std::getline(in, line); // the title
    std::getline(in, line); // the column heads
    while (std::getline(in, line) && line.rfind("  d", 0) == 0) {
        std::istringstream fields(line);
        std::string name;
        double reverse = 0, forward = 0;
        fields >> name >> reverse >> forward;
        rows.emplace_back(reverse, forward);
    }
    return rows;
}

} // namespace

TEST_CASE("inspect --ssa, --dot and explain match their golden outputs") {
    check_golden("logistic.ssa", "inspect samples/logistic.expr --ssa");
    check_golden("graph_ab.ssa", "inspect samples/graph_ab.expr");
    check_golden("sin_product.adjoint", "inspect samples/sin_product.expr --adjoint");
    check_golden("logistic.dot", "inspect samples/logistic.expr --dot --at x=1,a=2");
    check_golden("graph_ab.dot", "inspect samples/graph_ab.expr --dot --at a=3,b=5");
    check_golden("sin_product.dot", "inspect samples/sin_product.expr --dot");
    check_golden("logistic.explain", "explain samples/logistic.expr --at x=1,a=2");
    check_golden("graph_ab.explain", "explain samples/graph_ab.expr --at a=3,b=5");
    check_golden("sin_product.explain", "explain samples/sin_product.expr --fn f --at x1=2,x2=3");
}

TEST_CASE("explain on logistic: dy/dx = a y (1 - y) by forward mode, dy/da = x y (1 - y) from "
          "the same reverse sweep") {
    for (auto [x, a] : {std::pair{1.0, 2.0}, {-0.5, 3.0}, {2.0, -0.25}, {0.0, 1.0}}) {
        const std::string point = "x=" + std::to_string(x) + ",a=" + std::to_string(a);
        CAPTURE(point);
        const CommandResult r = run_gradc("explain samples/logistic.expr --at " + point);
        REQUIRE(r.status == 0);
        const double y = 1 / (1 + std::exp(-a * x));
        const auto rows = gradient_rows(r.out);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].second == doctest::Approx(a * y * (1 - y)).epsilon(1e-12)); // forward, dy/dx
        CHECK(rows[0].first == doctest::Approx(a * y * (1 - y)).epsilon(1e-12));  // reverse
        CHECK(rows[1].first == doctest::Approx(x * y * (1 - y)).epsilon(1e-12));  // reverse, dy/da
        CHECK(rows[1].second == doctest::Approx(x * y * (1 - y)).epsilon(1e-12));
        CHECK(contains(r.out, "dy/da came from the same sweep as dy/dx: no second sweep"));
    }
}

TEST_CASE("explain's gradient is the one eval computes, for every scalar sample") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"samples/graph_ab.expr", "a=3,b=5"},
        {"samples/sin_product.expr", "x1=0.5,x2=-2"},
        {"samples/rosenbrock.expr", "x=[-1.2,1,0.5,0.3,-0.7,1.1,0.9,1,2,-3]"},
        {"samples/td1_loss.expr", "w=[0.1,-0.2,0.3,0.4,-0.5,0.6,0.7,0.8,-0.9],x=[1,-2],y=0.5"}};
    for (const auto& [file, point] : cases) {
        CAPTURE(file);
        const CommandResult explained = run_gradc("explain " + file + " --at '" + point + "'");
        REQUIRE(explained.status == 0);
        const CommandResult evaluated =
            run_gradc("eval " + file + " --at '" + point + "' --grad --json");
        REQUIRE(evaluated.status == 0);
        // The reverse gradient from the JSON: "reverse": [a, b, ...]
        const std::size_t at = evaluated.out.find("\"reverse\": [");
        REQUIRE(at != std::string::npos);
        std::string list = evaluated.out.substr(at + 12, evaluated.out.find(']', at) - at - 12);
        for (char& c : list)
            if (c == ',') c = ' ';
        std::istringstream in(list);
        const auto rows = gradient_rows(explained.out);
        for (const auto& [reverse, forward] : rows) {
            double expected = 0;
            REQUIRE(static_cast<bool>(in >> expected));
            CHECK(reverse == doctest::Approx(expected).epsilon(1e-12));
            CHECK(forward == doctest::Approx(expected).epsilon(1e-12));
        }
        double extra = 0;
        CHECK_FALSE(static_cast<bool>(in >> extra));
    }
}

TEST_CASE("inspect --dot gives DOT that Graphviz accepts") {
    if (!fs::exists("/usr/bin/dot")) {
        MESSAGE("skipped: Graphviz (/usr/bin/dot) is not installed");
        return;
    }
    const std::string dir = work_dir("dot");
    for (const auto& entry : fs::directory_iterator(fs::path(source_dir()) / "samples")) {
        if (entry.path().extension() != ".expr") continue;
        const std::string name = entry.path().stem().string();
        CAPTURE(name);
        const std::string dot = dir + "/" + name + ".dot";
        const CommandResult graph = run_gradc("inspect samples/" + name + ".expr --dot");
        REQUIRE(graph.status == 0);
        write_file(dot, graph.out);
        const CommandResult r =
            run("/usr/bin/dot -Tsvg '" + dot + "' -o '" + dir + "/" + name + ".svg'");
        CHECK(r.status == 0);
        CHECK(r.err.empty());
        CHECK(contains(read_file(dir + "/" + name + ".svg"), "<svg"));
    }
    const CommandResult r = run("cd '" + source_dir() + "' && '" + gradc_binary() +
                                "' inspect samples/td1_loss.expr --dot --at "
                                "'w=[1,2,3,4,5,6,7,8,9],x=[1,2],y=3' | /usr/bin/dot -Tsvg");
    CHECK(r.status == 0);
    CHECK(r.err.empty());
}

TEST_CASE("the help texts, --version, and usage errors of inspect and explain") {
    CommandResult r = run_gradc("--help");
    CHECK(r.status == 0);
    for (const char* sub : {"compile", "eval", "inspect", "explain"})
        CHECK(contains(r.out, sub));
    r = run_gradc("--version");
    CHECK(r.status == 0);
    CHECK(r.out.rfind("gradc ", 0) == 0);
    r = run_gradc("inspect --help");
    CHECK(r.status == 0);
    CHECK(contains(r.out, "--dot"));
    CHECK(contains(r.out, "--at"));
    r = run_gradc("explain --help");
    CHECK(r.status == 0);
    CHECK(contains(r.out, "--fn"));
    CHECK(contains(r.out, "--at"));

    CHECK(run_gradc("explain samples/logistic.expr").status == 2);              // no point
    CHECK(run_gradc("explain samples/logistic.expr --at x=1").status == 2);     // a missing
    CHECK(run_gradc("explain samples/logistic.expr --at x=1,b=2").status == 2); // no such parameter
    CHECK(run_gradc("explain samples/logistic.expr --fn g --at x=1,a=2").status == 2);
    CHECK(run_gradc("inspect samples/logistic.expr --at x=1,a=2").status == 2); // --at needs --dot
    CHECK(run_gradc("inspect samples/logistic.expr --dot --ssa").status == 2);
    r = run_gradc("explain tests/golden/errors/unknown_name.expr --at x=1");
    CHECK(r.status == 1);
}
