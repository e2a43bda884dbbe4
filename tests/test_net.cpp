// The `.net` compiler: diagnostics with positions, the course's td1 numbers, Model::gradient
// against central finite differences for every layer, activation and loss, and the emitted code
// compiling warning-free with g++ and clang++.

#include "runtime/network.hpp"
#include "support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>

namespace {
using namespace gradc;

// The diagnostic for `text`, or "" when it compiles.
std::string diagnostic(const std::string& text) {
    SourceFile source("bad.net", text);
    try {
        net::compile_network(source, {});
    } catch (const CompileError& error) {
        return format_diagnostic(source, error.offset(), error.what());
    }
    return "";
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// Writes the headers of `networks` (name → text) into `dir` and returns the #include lines.
std::string emit_headers(const std::string& dir,
                         const std::vector<std::pair<std::string, std::string>>& networks,
                         const std::string& type) {
    std::string includes;
    for (const auto& [name, text] : networks) {
        net::CompileOptions options;
        options.scalar_type = type;
        test::write_file(dir + "/" + name + ".hpp",
                         net::compile_network(SourceFile(name + ".net", text), options));
        includes += "#include \"" + name + ".hpp\"\n";
    }
    return includes;
}

// Compiles dir/main.cpp with `compiler`, warnings as errors, and runs it.
test::CommandResult build_and_run(const std::string& dir, const std::string& compiler,
                                  const std::string& extra = "") {
    const std::string binary = dir + "/program";
    test::CommandResult built =
        test::run(compiler + " -std=c++17 -O1 -Wall -Wextra -Wpedantic -Werror -I " + dir + " " +
                  dir + "/main.cpp -o " + binary + " " + extra);
    if (built.status != 0) return built;
    return test::run(binary);
}

const char* const td1_text = R"(network td1 {
  input  x[2]
  target y[1]
  param W1[2, 2] = [[0.1, 0.1], [0.1, 0.4]]
  param b1[2]    = [0.8, 0.6]
  param W2[1, 2] = [[0.3, 0.9]]
  param b2[1]    = [0.1]
  h = sigmoid(W1 @ x + b1)
  o = tanh(W2 @ h + b2)
  loss 0.5 * sum((y - o)^2)
  optimizer sgd(lr = 1.0)
}
)";

} // namespace

TEST_CASE("net: syntax errors point at the offending column") {
    CHECK(first_line(diagnostic("network a {\n  input x[2\n}\n")) ==
          "bad.net:3:1: error: expected ']', found '}'");
    CHECK(first_line(diagnostic("network a {\n  input x[2]\n  h = sigmoid(x @ )\n}\n")) ==
          "bad.net:3:19: error: expected an expression, found ')'");
    CHECK(first_line(diagnostic("network a {\n  input x[2]\n  h = x x\n}\n")) ==
          "bad.net:3:9: error: expected a new line or ';' after the statement, found 'x'");
    CHECK(first_line(diagnostic("netwrk a {}")) ==
          "bad.net:1:1: error: expected `network NAME { ... }`");
}

TEST_CASE("net: shape mismatches name both shapes and the position of the operator") {
    const std::string text = "network a {\n  input x[3]\n  target y[1]\n  param W1[2, 2] = zeros\n"
                             "  h = W1 @ x\n  loss sum(h)\n}\n";
    const std::string message = diagnostic(text);
    CHECK(first_line(message) ==
          "bad.net:5:10: error: shape mismatch in `@`: `W1` [2, 2] @ `x` [3] "
          "(inner sizes 2 and 3 differ)");
    CHECK(message.find("  h = W1 @ x\n           ^") != std::string::npos);
    CHECK(first_line(diagnostic("network a {\n  input x[3]\n  param b[2] = zeros\n"
                                "  loss sum(x + b)\n}\n")) ==
          "bad.net:4:14: error: shape mismatch in `+`: [3] and [2]");
}

TEST_CASE("net: semantic errors") {
    auto error = [](const std::string& body) {
        return first_line(
            diagnostic("network a {\n  input x[4]\n  target k : class(3)\n" + body + "\n}\n"));
    };
    CHECK(error("  loss sum(q)") == "bad.net:4:12: error: unknown name `q`");
    CHECK(error("  c = conv2d(x, 8, kernel = 3)\n  loss sum(c)") ==
          "bad.net:4:7: error: `conv2d` is not supported yet");
    CHECK(error("  loss x * 2") == "bad.net:4:8: error: the loss must be a scalar per sample, but "
                                   "it is [4] (use sum or mean)");
    CHECK(error("  z = dense(x, 2)\n  loss cross_entropy(z, k)") ==
          "bad.net:5:8: error: cross_entropy: [2] scores for 3 classes");
    CHECK(error("  x = dense(x, 3)\n  loss sum(x)") ==
          "bad.net:4:3: error: `x` is already defined");
    CHECK(error("  z = dense(x, 3, activation = swish)\n  loss cross_entropy(z, k)") ==
          "bad.net:4:32: error: unknown activation `swish` (expected sigmoid, tanh, relu, "
          "softplus, softmax or identity)");
    CHECK(error("  param W[2, 2] = [[1, 2]]\n  loss sum(x)") ==
          "bad.net:4:19: error: the initial value does not have the shape [2, 2]");
    CHECK(error("  input y[0]\n  loss sum(x)") ==
          "bad.net:4:11: error: a size must be a positive integer");
    CHECK(error("  loss sum(x)\n  optimizer rmsprop(0.1)") ==
          "bad.net:5:13: error: expected sgd(lr, momentum = 0) or adam(lr, beta1, beta2, eps)");
}

TEST_CASE("net: td1 reproduces the course numbers in double precision") {
    const std::string dir = test::work_dir("net_td1");
    std::string program = emit_headers(dir, {{"td1", td1_text}}, "double");
    program += R"(#include <cstdio>
int main() {
    td1::Model model;
    double x[2] = {1, 1}, y[1] = {0.5}, grad[td1::num_params], out[1];
    const double before = model.gradient(x, y, 1, grad);
    std::printf("%.6g %.6g %.6g %.6g\n", before, grad[6], grad[7], grad[8]);
    model.train_batch(x, y, 1);
    model.predict(x, out);
    std::printf("%.6g %.6g\n", out[0], model.gradient(x, y, 1));
}
)";
    test::write_file(dir + "/main.cpp", program);
    test::CommandResult result = build_and_run(dir, test::gxx());
    REQUIRE_MESSAGE(result.status == 0, result.err);
    CHECK(result.out == "0.0336173 0.0802731 0.0823815 0.109804\n0.637995 0.00952129\n");
}

TEST_CASE("net: Model::gradient matches central finite differences for every layer, "
          "activation and loss") {
    const std::vector<std::pair<std::string, std::string>> networks = {
        {"activations", R"(network activations {
  input x[3]
  target y[2]
  a = dense(x, 4, activation = sigmoid)
  b = dense(a, 4, activation = tanh)
  c = dense(b, 4, activation = softplus)
  d = dense(c, 4, activation = relu, init = normal(0.5, 0.5))
  e = dense(d, 2, activation = identity)
  loss mse(e, y)
  regularize l2(0.01, biases = false)
})"},
        {"classes", R"(network classes {
  input x[5]
  target label : class(3)
  h = dropout(dense(x, 6, activation = relu), 0.3)
  z = dense(h, 3, init = uniform(-1, 1))
  output softmax(z)
  loss cross_entropy(z, label)
  regularize l2(0.001)
  batch 4
})"},
        {"wide", R"(network wide {
  input x[40]
  target y[5]
  h = dropout(dense(x, 36, activation = sigmoid), 0.2)
  loss mse(dense(h, 5), y)
})"},
        {"log_probs", R"(network log_probs {
  input x[4]
  target label : class(3)
  p = log_softmax(dense(x, 3, init = xavier))
  loss nll(p, label)
})"},
        {"soft", R"(network soft {
  input x[4]
  target y[3]
  z = dense(x, 3)
  q = dense(x, 3, activation = softmax)
  loss cross_entropy(z, y) + kl(y, q) + nll(log_softmax(z), y)
})"},
        {"perceptron", R"(network perceptron {
  input x[3]
  target y[1]
  score = dense(x, 1, init = he)
  loss hinge(score, y)
})"},
        {"tensor_ops", R"(network tensor_ops {
  input x[2, 3]
  input v3[3]
  target y
  param A[4, 2] = uniform(-1, 1)
  param B[3, 2] = normal(0, 0.5)
  param v[2] = [0.5, -0.25]
  param c = 0.3
  m = A @ x
  n = m @ B
  r = reshape(flatten(n), 2, 4)
  w = v @ r
  k = v3 @ B
  s = exp(-w^2) + log(1 + w * w) + sqrt(abs(w) + 1) + sin(w) * cos(w) + pow(abs(w) + 1, c) + max(w, c) - min(w, 0.1) + w / (2 + c * c)
  t = 0.5 * tanh(w)
  u = atan(w) + erf(w) + tan(t) + hypot(w, c) + atan2(w, 2) + log(3, 2 + w * w) + cbrt(w + 5) + sinh(t) + cosh(t) + asinh(w) + acosh(2 + w * w) + atanh(t) + asin(t) + acos(t) + log2(2 + w * w) + log10(2 + w * w) + floor(w) + ceil(w) + sign(w) + heaviside(w) + softplus(w) + relu(w)
  loss 0.5 * (sum(s) - y)^2 + mean(s) + max(s) + dot(s, s) * c + sum(k^3) / 3 + sum(sigmoid(k) * tanh(k)) + sum(u)
})"},
        {"biases", R"(network biases {
  input x[3]
  input u[2]
  target y[2]
  param W[2, 3] = uniform(-1, 1)
  param b[2] = [0.1, -0.2]
  param c = 0.3
  p = W @ x
  a = p + b
  q = W @ x + u
  r = c + W @ x
  s = W @ x + W @ x
  loss 0.5 * sum((a * p + q * r + s - y)^2)
})"},
    };
    const std::string dir = test::work_dir("net_gradients");
    std::string program = emit_headers(dir, networks, "double");
    program += R"(#include <cmath>
#include <cstdio>
#include <vector>

// Targets: 0 reals in [-1, 1], 1 class labels, 2 probability vectors, 3 signs. Networks of more
// than 512 parameters (here `wide`) run batched tiles, smaller ones one sample at a time.
template <class Model> double check(int target_kind) {
    Model model;
    model.init(11);
    const int count = 6;
    gradc_rt::Random random(5);
    std::vector<double> x(count * Model::input_size), t(count * Model::target_size);
    std::vector<double> grad(Model::num_params);
    for (double& value : x) value = 2 * random.uniform() - 1;
    for (int b = 0; b < count; ++b) {
        double total = 0;
        for (int k = 0; k < Model::target_size; ++k) {
            double& value = t[b * Model::target_size + k];
            value = target_kind == 1 ? double(random.below(Model::num_classes))
                    : target_kind == 2 ? 0.1 + random.uniform()
                    : target_kind == 3 ? (random.uniform() < 0.5 ? -1.0 : 1.0)
                                       : 2 * random.uniform() - 1;
            total += value;
        }
        if (target_kind == 2)
            for (int k = 0; k < Model::target_size; ++k) t[b * Model::target_size + k] /= total;
    }
    model.reseed(3);
    model.gradient(x.data(), t.data(), count, grad.data());
    double* theta = model.parameters();
    double worst = 0;
    for (int i = 0; i < Model::num_params; ++i) {
        const double keep = theta[i], h = 1e-6;
        theta[i] = keep + h;
        model.reseed(3);
        const double up = model.gradient(x.data(), t.data(), count);
        theta[i] = keep - h;
        model.reseed(3);
        const double down = model.gradient(x.data(), t.data(), count);
        theta[i] = keep;
        const double fd = (up - down) / (2 * h);
        const double error = std::fabs(fd - grad[i]) / std::max(1e-3, std::fabs(fd) + std::fabs(grad[i]));
        worst = std::max(worst, error);
    }
    return worst;
}

int main() {
    std::printf("activations %.1e\n", check<activations::Model>(0));
    std::printf("classes %.1e\n", check<classes::Model>(1));
    std::printf("wide %.1e\n", check<wide::Model>(0));
    std::printf("log_probs %.1e\n", check<log_probs::Model>(1));
    std::printf("soft %.1e\n", check<soft::Model>(2));
    std::printf("perceptron %.1e\n", check<perceptron::Model>(3));
    std::printf("tensor_ops %.1e\n", check<tensor_ops::Model>(0));
    std::printf("biases %.1e\n", check<biases::Model>(0));
}
)";
    test::write_file(dir + "/main.cpp", program);
    test::CommandResult result = build_and_run(dir, test::gxx());
    REQUIRE_MESSAGE(result.status == 0, result.err);
    std::istringstream lines(result.out);
    std::string name;
    double error = 0;
    int checked = 0;
    while (lines >> name >> error) {
        INFO(name);
        CHECK(error < 1e-6);
        ++checked;
    }
    CHECK(checked == 8);
}

TEST_CASE("net: emitted headers compile warning-free with g++ and clang++, float and double") {
    for (const std::string type : {"float", "double"}) {
        const std::string dir = test::work_dir("net_warnings_" + type);
        std::string sample = test::read_file(test::source_dir() + "/samples/digits.net");
        std::string program = emit_headers(dir, {{"td1", td1_text}, {"digits", sample}}, type);
        program += "int main() {\n  td1::Model a;\n  digits::Model b;\n"
                   "  return a.parameters()[0] > 1 && b.parameters()[0] > 9;\n}\n";
        test::write_file(dir + "/main.cpp", program);
        for (const std::string& compiler : {test::gxx(), test::clangxx()}) {
            if (compiler.empty()) continue;
            INFO(compiler << " " << type);
            test::CommandResult result = build_and_run(dir, compiler);
            CHECK_MESSAGE(result.err == "", result.err);
        }
    }
}

TEST_CASE("net: a product accumulates onto its bias, and a square's adjoint doubles the seed side") {
    const std::string header =
        net::compile_network(SourceFile("td1.net", td1_text), net::CompileOptions{});
    // sigmoid(W1 @ x + b1): t1 starts as the bias, the product adds to it, its adjoint is t1's.
    CHECK(header.find("        // t1\n"
                      "        for (int b = 0; b < n; ++b)\n"
                      "            for (int i = 0; i < 2; ++i)\n"
                      "                v_t1[b * 2 + i] = s.theta[4 + i];\n"
                      "        // t1 +=\n"
                      "        gradc_rt::gemm_nt<2, 2>(n, v_x, s.theta + 0, v_t1, true);\n") !=
          std::string::npos);
    CHECK(header.find("gradc_rt::gemm<2>(2, n, v_t1_bar, 1, 2, v_x, grad + 0, true);") !=
          std::string::npos);
    CHECK(header.find("Scalar t0[") == std::string::npos); // the product's own tensor is gone
    // 0.5 * sum((y - o)^2): the seed's side doubles, so for one sample it folds to a constant.
    CHECK(header.find("v_t6_bar[b] = (v_t7_bar[b] + v_t7_bar[b]) * v_t6[b];") != std::string::npos);
}

TEST_CASE("net: only a network of at most 16 parameters trains without GCC's vectoriser") {
    const std::string guarded = "#if defined(__GNUC__) && !defined(__clang__)\n"
                                "    __attribute__((optimize(\"no-tree-vectorize\")))\n"
                                "#endif\n"
                                "    Scalar train_batch(";
    CHECK(net::compile_network(SourceFile("td1.net", td1_text), net::CompileOptions{})
              .find(guarded) != std::string::npos);
    // xor: 42 parameters, one sample at a time, but faster with the vectorised update.
    const std::string xor_text = test::read_file(test::source_dir() + "/samples/xor.net");
    CHECK(net::compile_network(SourceFile("xor.net", xor_text), net::CompileOptions{})
              .find("no-tree-vectorize") == std::string::npos);
}

TEST_CASE("net: the output is deterministic") {
    SourceFile source("td1.net", td1_text);
    net::CompileOptions options;
    options.with_main = true;
    CHECK(net::compile_network(source, options) == net::compile_network(source, options));
}
