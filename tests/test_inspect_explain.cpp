// `gradc inspect` and `gradc explain` on the samples: golden outputs (tests/golden/inspect/, each
// read and checked by hand against the math before it was committed), the numbers of explain
// against the closed forms and against `eval`, the derivative programs of inspect run line by line
// against explain's table, DOT that Graphviz accepts, and the help texts.
// Regenerate the goldens with GRADC_UPDATE_GOLDEN=1, then read the diff before committing it.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/pipeline.hpp"
#include "compiler/print.hpp"
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

// Evaluates one expression of an inspect program: numbers, names (`x`, `w_bar[1]`), + - * /,
// unary minus, parentheses and the calls the samples use. Throws on anything else.
class ExpressionEvaluator {
  public:
    ExpressionEvaluator(const std::string& text, const std::map<std::string, double>& values)
        : text_(text), values_(values) {}

    double run() {
        const double value = sum();
        skip_spaces();
        if (at_ != text_.size()) throw std::runtime_error("unexpected text in: " + text_);
        return value;
    }

  private:
    void skip_spaces() {
        while (at_ < text_.size() && text_[at_] == ' ')
            ++at_;
    }
    bool take(char c) {
        skip_spaces();
        if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
        return false;
    }
    double sum() {
        double value = product();
        for (;;) {
            if (take('+'))
                value += product();
            else if (take('-'))
                value -= product();
            else
                return value;
        }
    }
    double product() {
        double value = unary();
        for (;;) {
            if (take('*'))
                value *= unary();
            else if (take('/'))
                value /= unary();
            else
                return value;
        }
    }
    double unary() { return take('-') ? -unary() : atom(); }
    double atom() {
        if (take('(')) {
            const double value = sum();
            if (!take(')')) throw std::runtime_error("missing ) in: " + text_);
            return value;
        }
        skip_spaces();
        const std::size_t start = at_;
        if (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
            std::size_t used = 0;
            const double value = std::stod(text_.substr(at_), &used);
            at_ += used;
            return value;
        }
        while (at_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_'))
            ++at_;
        if (at_ < text_.size() && text_[at_] == '[') at_ = text_.find(']', at_) + 1;
        const std::string name = text_.substr(start, at_ - start);
        if (take('(')) {
            const double x = sum();
            if (!take(')')) throw std::runtime_error("missing ) in: " + text_);
            if (name == "exp") return std::exp(x);
            if (name == "sin") return std::sin(x);
            if (name == "cos") return std::cos(x);
            if (name == "tanh") return std::tanh(x);
            if (name == "sigmoid") return 1 / (1 + std::exp(-x));
            throw std::runtime_error("unknown function " + name);
        }
        const auto found = values_.find(name);
        if (found == values_.end()) throw std::runtime_error("unknown name '" + name + "'");
        return found->second;
    }

    const std::string& text_;
    const std::map<std::string, double>& values_;
    std::size_t at_ = 0;
};

// Runs the program `gradc inspect` printed, line by line, from the given input values. Every line
// `w3: c = a + b  # 3:15` defines c (what the other lines read); stores (`a_bar = d`, `x_bar[0] +=
// ...`) and `return` define their targets too.
std::map<std::string, double> run_program(const std::string& program,
                                          std::map<std::string, double> values) {
    std::istringstream in(program);
    std::string line;
    std::getline(in, line); // the kernel's name and summary
    while (std::getline(in, line)) {
        line = line.substr(0, line.find("  # "));
        if (line.rfind("  return ", 0) == 0) {
            values["return"] = ExpressionEvaluator(line.substr(9), values).run();
            continue;
        }
        const std::size_t equals = line.find(" = ");
        REQUIRE(equals != std::string::npos);
        std::string target = line.substr(0, equals);
        const bool add = target.back() == '+';
        if (add) target.pop_back();
        target = target.substr(target.find_first_not_of(' '));
        target = target.substr(0, target.find_last_not_of(' ') + 1);
        if (const std::size_t colon = target.find(": "); colon != std::string::npos)
            target = target.substr(colon + 2);
        const double value = ExpressionEvaluator(line.substr(equals + 3), values).run();
        values[target] = add ? values[target] + value : value;
    }
    return values;
}

// Explain's table: for each row, named by its `let` name (or parameter element) when it has one,
// else by w_i, each column's text by its heading.
std::map<std::string, std::map<std::string, std::string>> explain_table(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line) && line.rfind("  w_i ", 0) != 0) {
    }
    std::vector<std::pair<std::string, std::size_t>> columns; // heading, where it starts
    for (std::size_t at = 2; at < line.size();) {
        const std::size_t end = std::min(line.find(' ', at), line.size());
        columns.emplace_back(line.substr(at, end - at), at);
        at = line.find_first_not_of(' ', end);
    }
    std::map<std::string, std::map<std::string, std::string>> rows;
    while (std::getline(in, line) && !line.empty()) {
        std::map<std::string, std::string> row;
        for (const auto& [heading, at] : columns) {
            std::string cell = at < line.size() ? line.substr(at) : "";
            row[heading] = cell.substr(0, cell.find(' '));
        }
        rows[row["name"].empty() ? row["w_i"] : row["name"]] = row;
    }
    return rows;
}

// `w_bar[1]` -> `w[1]`, `c_dot` -> `c`: the row of explain's table a derivative belongs to.
std::string row_of(const std::string& name, const std::string& suffix) {
    std::string row = name;
    row.erase(row.find(suffix), suffix.size());
    return row;
}

bool ends_with(const std::string& text, const std::string& end) {
    return text.size() >= end.size() &&
           text.compare(text.size() - end.size(), end.size(), end) == 0;
}

} // namespace

TEST_CASE("inspect --ssa, --dot and explain match their golden outputs") {
    check_golden("logistic.ssa", "inspect samples/logistic.expr --ssa");
    check_golden("graph_ab.ssa", "inspect samples/graph_ab.expr");
    check_golden("sin_product.adjoint", "inspect samples/sin_product.expr --adjoint");
    check_golden("graph_ab.tangent", "inspect samples/graph_ab.expr --tangent");
    check_golden("graph_ab.adjoint", "inspect samples/graph_ab.expr --adjoint");
    check_golden("logistic.tangent", "inspect samples/logistic.expr --tangent");
    check_golden("logistic.adjoint", "inspect samples/logistic.expr --adjoint");
    check_golden("td1_loss.adjoint", "inspect samples/td1_loss.expr --adjoint");
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

TEST_CASE("inspect's derivative programs, run line by line, give explain's w_i, w_i dot and w_i "
          "bar under the same names") {
    struct Case {
        std::string file, point;
        std::map<std::string, double> inputs; // the same point, by parameter element
    };
    const std::vector<Case> cases{{"samples/graph_ab.expr", "a=3,b=5", {{"a", 3}, {"b", 5}}},
                                  {"samples/logistic.expr", "x=1,a=2", {{"x", 1}, {"a", 2}}},
                                  {"samples/sin_product.expr", "x1=2,x2=3", {{"x1", 2}, {"x2", 3}}},
                                  {"samples/td1_loss.expr",
                                   "w=[0.1,-0.2,0.3,0.4,-0.5,0.6,0.7,0.8,-0.9],x=[1,-2],y=0.5",
                                   {{"w[0]", 0.1},
                                    {"w[1]", -0.2},
                                    {"w[2]", 0.3},
                                    {"w[3]", 0.4},
                                    {"w[4]", -0.5},
                                    {"w[5]", 0.6},
                                    {"w[6]", 0.7},
                                    {"w[7]", 0.8},
                                    {"w[8]", -0.9},
                                    {"x[0]", 1},
                                    {"x[1]", -2},
                                    {"y", 0.5}}}};
    for (const Case& c : cases) {
        CAPTURE(c.file);
        const CommandResult explained = run_gradc("explain " + c.file + " --at '" + c.point + "'");
        REQUIRE(explained.status == 0);
        auto table = explain_table(explained.out);
        REQUIRE(table.size() > c.inputs.size());
        auto check = [&](const std::string& row, const std::string& column, double value) {
            CAPTURE(row);
            CAPTURE(column);
            REQUIRE(table.count(row) == 1);
            CHECK(value == doctest::Approx(std::stod(table[row][column])).epsilon(1e-5));
        };

        // Reverse mode: every adjoint the program names, and the gradient it stores.
        const CommandResult adjoint = run_gradc("inspect " + c.file + " --adjoint");
        REQUIRE(adjoint.status == 0);
        std::size_t bars = 0;
        for (const auto& [name, value] : run_program(adjoint.out, c.inputs)) {
            if (ends_with(name, "_bar") || name.find("_bar[") != std::string::npos) {
                check(row_of(name, "_bar"), "w_bar", value);
                ++bars;
            } else if (table.count(name)) {
                check(name, "value", value);
            }
        }
        CHECK(bars >= c.inputs.size()); // the whole gradient, and the named adjoints on the way

        // Forward mode, once per input seeded with e_j: every tangent the program names.
        const CommandResult tangent = run_gradc("inspect " + c.file + " --tangent");
        REQUIRE(tangent.status == 0);
        for (const auto& [input, value] : c.inputs) {
            CAPTURE(input);
            std::map<std::string, double> values = c.inputs;
            for (const auto& [other, unused] : c.inputs) {
                const std::size_t bracket = std::min(other.find('['), other.size());
                values[other.substr(0, bracket) + "_dot" + other.substr(bracket)] =
                    other == input ? 1.0 : 0.0;
            }
            const auto run = run_program(tangent.out, values);
            std::size_t dots = 0;
            for (const auto& [name, value] : run) {
                if (ends_with(name, "_dot") && name != "out_dot" && !values.count(name)) {
                    check(row_of(name, "_dot"), "w_dot[" + input + "]", value);
                    ++dots;
                }
            }
            CHECK(dots > 0);
        }
    }
}

TEST_CASE("inspect --adjoint on graph_ab: a_bar = d and b_bar = c + d, 6 and 14 at (3, 5), and on "
          "logistic the chain rule's signs cancel: x_bar = a y (1 - y) without a negation") {
    CommandResult r = run_gradc("inspect samples/graph_ab.expr --adjoint");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "  w3: c = a + b  # 3:15\n"));
    CHECK(contains(r.out, "  a_bar = d\n"));
    CHECK(contains(r.out, "  b_bar = c + d  # 3:15\n"));
    const auto values = run_program(r.out, {{"a", 3}, {"b", 5}});
    CHECK(values.at("a_bar") == 6);
    CHECK(values.at("b_bar") == 14);
    CHECK(values.at("return") == 48);

    r = run_gradc("inspect samples/logistic.expr --adjoint");
    REQUIRE(r.status == 0);
    for (const char* line : {"  w3    = -a          # 3:34\n", "  t1    = y * y * w5  # 3:30\n",
                             "  x_bar = t1 * a      # 3:37\n", "  a_bar = t1 * x      # 3:37\n"})
        CHECK(contains(r.out, line));
    CHECK_FALSE(contains(r.out, "%"));
    const double x = 1, a = 2, y = 1 / (1 + std::exp(-a * x));
    const auto logistic = run_program(r.out, {{"x", x}, {"a", a}});
    CHECK(logistic.at("x_bar") == doctest::Approx(a * y * (1 - y)).epsilon(1e-14));
    CHECK(logistic.at("a_bar") == doctest::Approx(x * y * (1 - y)).epsilon(1e-14));
}

TEST_CASE("with_course_names only names nodes: every kernel computes the same graph") {
    for (const std::string name :
         {"graph_ab", "logistic", "sin_product", "td1_loss", "rosenbrock"}) {
        CAPTURE(name);
        const gradc::SourceFile source =
            gradc::SourceFile::load(source_dir() + "/samples/" + name + ".expr");
        for (const gradc::Function& fn : gradc::compile_functions(source)) {
            const gradc::Function named = gradc::with_course_names(fn);
            gradc::KernelOptions options;
            options.hessian = true;
            const auto plain = gradc::build_kernels(fn, options);
            const auto renamed = gradc::build_kernels(named, options);
            REQUIRE(plain.size() == renamed.size());
            for (std::size_t k = 0; k < plain.size(); ++k) {
                CAPTURE(plain[k].name);
                const gradc::Graph &a = plain[k].graph, &b = renamed[k].graph;
                REQUIRE(a.size() == b.size());
                for (gradc::NodeId i = 0; i < a.size(); ++i) {
                    CHECK(a[i].op == b[i].op);
                    CHECK(a[i].args == b[i].args); // a constant's value included
                }
                CHECK(gradc::kernel_roots(plain[k]) == gradc::kernel_roots(renamed[k]));
            }
            // The primal's intermediates are labelled, so their adjoints got names (in graph_ab and
            // sin_product every adjoint is a primal value, an input or a constant).
            if (name == "graph_ab" || name == "sin_product") continue;
            std::size_t bars = 0;
            const gradc::Kernel& grad = renamed[2]; // after the function and its _jvp
            REQUIRE(grad.name == fn.name + "_grad");
            for (gradc::NodeId i = 0; i < grad.graph.size(); ++i)
                if (const std::string* label = grad.graph.label(i);
                    label && ends_with(*label, "_bar"))
                    ++bars;
            CHECK(bars > 0);
        }
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
