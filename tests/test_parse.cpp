// Unit tests for the `.expr` parser (grammar/): accepted programs and the shape of their AST,
// source offsets, rejected programs with their messages and positions, and robustness against
// pathological inputs (deep nesting, garbage, large files).

#include "compiler/source.hpp"
#include "grammar/ast.hpp"
#include "grammar/parse.hpp"

#include <doctest/doctest.h>

#include <boost/variant/apply_visitor.hpp>
#include <boost/variant/get.hpp>

#include <string>

namespace {

using namespace gradc;

// A compact printer: binary levels as (a + b - c), unary as (-x), indexing as x[i, j], and with
// `offsets`, each node's offset after an '@'.
struct Printer {
    using result_type = std::string;
    bool offsets = false;

    std::string at(const ast::Located& node) const {
        return offsets ? "@" + std::to_string(node.offset) : "";
    }
    std::string operator()(const ast::Number& n) const { return n.text + at(n); }
    std::string operator()(const ast::Identifier& n) const { return n.name + at(n); }
    std::string operator()(const ast::Unary& n) const {
        return "(" + n.op + (n.op == "not" ? " " : "") + print(n.operand) + ")" + at(n);
    }
    std::string operator()(const ast::Binary& n) const {
        std::string s = "(" + print(n.first);
        for (const auto& r : n.rest)
            s += " " + r.op + at(r) + " " + print(r.operand);
        return s + ")" + at(n);
    }
    std::string list(const ast::List<ast::Expr>& items) const {
        std::string s;
        for (std::size_t i = 0; i < items.size(); ++i)
            s += (i ? ", " : "") + print(items[i]);
        return s;
    }
    std::string range(const ast::Range& r) const {
        return r.variable + at(r) + " in " + print(r.low) + ".." + print(r.high);
    }
    std::string operator()(const ast::Call& n) const {
        return n.name + at(n) + "(" + list(n.args) + ")";
    }
    std::string operator()(const ast::Reduction& n) const {
        std::string s = n.op + at(n) + "(";
        for (std::size_t i = 0; i < n.ranges.size(); ++i)
            s += (i ? ", " : "") + range(n.ranges[i]);
        return s + ": " + print(n.body) + ")";
    }
    std::string operator()(const ast::Indexed& n) const {
        return print(n.base) + "[" + list(n.indices) + "]" + at(n);
    }
    std::string operator()(const ast::Conditional& n) const {
        return "(if " + print(n.condition) + " then " + print(n.then_branch) + " else " +
               print(n.else_branch) + ")" + at(n);
    }
    std::string operator()(const ast::ListLiteral& n) const {
        return "[" + list(n.elements) + "]" + at(n);
    }
    template <typename T> std::string operator()(const ast::x3::forward_ast<T>& node) const {
        return (*this)(node.get());
    }
    std::string print(const ast::Expr& e) const { return boost::apply_visitor(*this, e); }
};

ast::Program parse(const std::string& text) {
    return parse_program(SourceFile("t.expr", text));
}

// The expression of `fn f(x) = EXPR`.
ast::Expr body_of(const std::string& expr_text) {
    ast::Program program = parse("fn f(x) = " + expr_text);
    REQUIRE(program.items.size() == 1);
    const auto& function = boost::get<ast::Function>(program.items[0]);
    REQUIRE(function.body.size() == 1);
    return boost::get<ast::Return>(function.body[0]).value;
}

std::string shape(const std::string& expr_text) {
    return Printer{}.print(body_of(expr_text));
}

// Offsets below are relative to the start of EXPR (the prefix `fn f(x) = ` is 10 bytes).
std::string located(const std::string& expr_text) {
    ast::Program program = parse(expr_text);
    const auto& function = boost::get<ast::Function>(program.items.at(0));
    return Printer{true}.print(boost::get<ast::Return>(function.body.at(0)).value);
}

struct Failure {
    std::size_t offset = 0;
    std::string message;
    std::string line_col;
};

// Parses text that must be rejected; returns where and why.
Failure failure(const std::string& text) {
    SourceFile source("t.expr", text);
    try {
        parse_program(source);
    } catch (const CompileError& e) {
        LineColumn at = source.locate(e.offset());
        return {e.offset(), e.what(), std::to_string(at.line) + ":" + std::to_string(at.column)};
    }
    FAIL("expected a syntax error for: " << text.substr(0, 200));
    return {};
}

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i)
        out += s;
    return out;
}

} // namespace

TEST_SUITE("parse") {

    TEST_CASE("empty and blank programs") {
        CHECK(parse("").items.empty());
        CHECK(parse("\n\n;;\n  # just a comment\n\t\r\n").items.empty());
    }

    TEST_CASE("the items of the spec example") {
        const std::string text = R"(const N = 100                       # compile-time constant
fn logistic(x, a) = 1 / (1 + exp(-a * x))        # one-expression function
fn loss(w[9], x[2], y) {                          # block function
    let h1 = sigmoid(w[0] + w[1]*x[0] + w[2]*x[1])
    let o  = tanh(w[6] + w[7]*h1)
    return 0.5 * (y - o)^2
}
)";
        ast::Program program = parse(text);
        REQUIRE(program.items.size() == 3);

        const auto& n = boost::get<ast::Const>(program.items[0]);
        CHECK(n.name == "N");
        CHECK(n.offset == 0);
        CHECK(Printer{}.print(n.value) == "100");

        const auto& logistic = boost::get<ast::Function>(program.items[1]);
        CHECK(logistic.name == "logistic");
        CHECK(logistic.offset == text.find("fn logistic"));
        REQUIRE(logistic.params.size() == 2);
        CHECK(logistic.params[1].name == "a");
        CHECK(logistic.params[1].offset == text.find("a)"));
        REQUIRE(logistic.body.size() == 1);
        const auto& ret = boost::get<ast::Return>(logistic.body[0]);
        CHECK(ret.offset ==
              text.find("1 / (1")); // an expression body's Return sits at the expression
        CHECK(Printer{}.print(ret.value) == "(1 / (1 + exp(((-a) * x))))");

        const auto& loss = boost::get<ast::Function>(program.items[2]);
        REQUIRE(loss.params.size() == 3);
        CHECK(loss.params[0].name == "w");
        REQUIRE(loss.params[0].dims.size() == 1);
        CHECK(Printer{}.print(loss.params[0].dims[0]) == "9");
        CHECK(loss.params[2].dims.empty());
        REQUIRE(loss.body.size() == 3);
        const auto& h1 = boost::get<ast::Let>(loss.body[0]);
        CHECK(h1.name == "h1");
        CHECK(h1.offset == text.find("let h1"));
        CHECK(h1.ranges.empty());
        CHECK(Printer{}.print(h1.value) == "sigmoid((w[0] + (w[1] * x[0]) + (w[2] * x[1])))");
        const auto& last = boost::get<ast::Return>(loss.body[2]);
        CHECK(last.offset == text.find("return"));
        CHECK(Printer{}.print(last.value) == "(0.5 * ((y - o) ^ 2))");
    }

    TEST_CASE("matrix parameters, comprehensions and list returns") {
        ast::Program program =
            parse("fn g(A[M, N], v[N]) {\n"
                  "  let u[i in 0..M] = sum(j in 0..N: A[i, j] * v[j])\n"
                  "  let m[i in 0..M, j in 1..N-1] = A[i,j]; return [u[0], m[1, 2]]\n"
                  "}");
        const auto& g = boost::get<ast::Function>(program.items.at(0));
        REQUIRE(g.params.size() == 2);
        REQUIRE(g.params[0].dims.size() == 2);
        CHECK(Printer{}.print(g.params[0].dims[1]) == "N");
        REQUIRE(g.body.size() == 3);
        const auto& u = boost::get<ast::Let>(g.body[0]);
        REQUIRE(u.ranges.size() == 1);
        CHECK(Printer{}.range(u.ranges[0]) == "i in 0..M");
        CHECK(Printer{}.print(u.value) == "sum(j in 0..N: (A[i, j] * v[j]))");
        const auto& m = boost::get<ast::Let>(g.body[1]);
        REQUIRE(m.ranges.size() == 2);
        CHECK(Printer{}.range(m.ranges[1]) == "j in 1..(N - 1)");
        CHECK(Printer{}.print(boost::get<ast::Return>(g.body[2]).value) == "[u[0], m[1, 2]]");
    }

    TEST_CASE("block layout: separators, blank lines, brace on the next line") {
        CHECK(parse("fn f(x) { return x }").items.size() == 1);
        CHECK(parse("fn f(x) {\n\n  let a = 1;; let b = 2\n\n  return a ; \n}\n\n").items.size() ==
              1);
        CHECK(parse("fn f(x)\n{\n  return x\n}").items.size() == 1);
        CHECK(parse("const A = 1; const B = 2\nfn f() = A").items.size() == 3);
        auto f = boost::get<ast::Function>(parse("fn f(x) { let a = 1; return a }").items[0]);
        CHECK(f.body.size() == 2);
    }

    TEST_CASE("CRLF line endings and tabs") {
        ast::Program program =
            parse("const N = 2\r\nfn f(x,\r\n  y) {\r\n\tlet a = x\t* y\r\n\treturn a\r\n}\r\n");
        REQUIRE(program.items.size() == 2);
        CHECK(boost::get<ast::Function>(program.items[1]).body.size() == 2);
    }

    TEST_CASE("newlines inside brackets do not end a statement, and comments are skipped") {
        CHECK(shape("(1 +\n 2) * f(x,\n y) + v[\n0]  # comment (\n") ==
              "(((1 + 2) * f(x, y)) + v[0])");
        CHECK(parse("fn f(x) {\n  return [1, # first\n   2]\n}").items.size() == 1);
        // A '(' inside a comment does not open anything.
        CHECK(parse("fn f(x) = x # (\nfn g(x) = x").items.size() == 2);
    }

    TEST_CASE("precedence and associativity") {
        CHECK(shape("a + b * c") == "(a + (b * c))");
        CHECK(shape("a - b - c + d") == "(a - b - c + d)");
        CHECK(shape("a * b / c % d") == "(a * b / c % d)");
        CHECK(shape("-x^2") == "(-(x ^ 2))");
        CHECK(shape("2^-x") == "(2 ^ (-x))");
        CHECK(shape("a^b^c") == "(a ^ (b ^ c))");
        CHECK(shape("-a * b") == "((-a) * b)");
        CHECK(shape("- -+x") == "(-(-(+x)))");
        CHECK(shape("a < b + 1") == "(a < (b + 1))");
        CHECK(shape("0 < x < 1") == "(0 < x < 1)"); // a chain: lowering rejects it
        CHECK(shape("a <= b == c != d >= e > f") == "(a <= b == c != d >= e > f)");
        CHECK(shape("not a and b or c") == "(((not a) and b) or c)");
        CHECK(shape("a or b or c and d") == "(a or b or (c and d))");
        CHECK(shape("not not a < b") == "(not (not (a < b)))");
        CHECK(shape("if a < b then a else b + 1") == "(if (a < b) then a else (b + 1))");
        CHECK(shape("if a then b else if c then d else e") ==
              "(if a then b else (if c then d else e))");
        CHECK(shape("1 + if a then b else c") == "(1 + (if a then b else c))");
        CHECK(shape("(a + b) * c") == "((a + b) * c)");
    }

    TEST_CASE("postfix indexing, calls, reductions and lists") {
        CHECK(shape("x[i]") == "x[i]");
        CHECK(shape("A[i + 1, j]") == "A[(i + 1), j]");
        CHECK(shape("softmax(v)[i]") == "softmax(v)[i]");
        CHECK(shape("x[i]^2") == "(x[i] ^ 2)");
        CHECK(shape("x[1][2]") == "x[1][2]");
        CHECK(shape("f()") == "f()");
        CHECK(shape("max(a, b) + max(v) + pow(x, 2)") == "(max(a, b) + max(v) + pow(x, 2))");
        CHECK(shape("sum(i in 0..N: x[i])") == "sum(i in 0..N: x[i])");
        CHECK(shape("prod(i in 1..N-1: x[i])") == "prod(i in 1..(N - 1): x[i])");
        CHECK(shape("max(i in 0..3, j in 0..2: A[i,j]^2)") ==
              "max(i in 0..3, j in 0..2: (A[i, j] ^ 2))");
        CHECK(shape("min ( i in 0 .. 3 : i )") == "min(i in 0..3: i)");
        CHECK(shape("sum(sum(i in 0..3: i))") == "sum(sum(i in 0..3: i))");
        CHECK(shape("[1, x, -y]") == "[1, x, (-y)]");
        CHECK(shape("exp(-0.1 * (i + 1))") == "exp(((-0.1) * (i + 1)))");
    }

    TEST_CASE("numbers keep their text") {
        CHECK(shape("3") == "3");
        CHECK(shape("2.5") == "2.5");
        CHECK(shape(".5") == ".5");
        CHECK(shape("1e-3") == "1e-3");
        CHECK(shape("6.02E+23") == "6.02E+23");
        CHECK(shape("1e5 + 2E3") == "(1e5 + 2E3)");
        CHECK(shape("sum(i in 0..10: i)") == "sum(i in 0..10: i)");
        CHECK(shape("sum(i in 1..2.5: i)") == "sum(i in 1..2.5: i)");
    }

    TEST_CASE("keywords respect identifier boundaries, and builtins are names") {
        CHECK(shape("iffy + notation + input + orb + andy + lets + fnord") ==
              "(iffy + notation + input + orb + andy + lets + fnord)");
        CHECK(shape("if_ * then2 * _else") == "(if_ * then2 * _else)");
        ast::Program program = parse("fn exp(sum) = sum");
        CHECK(boost::get<ast::Function>(program.items[0]).name == "exp");
    }

    TEST_CASE("offsets point at the first character of each node") {
        //                  0123456789012345678901234567890
        CHECK(located("fn f(x) = -x^2 + f(y)[i]") ==
              "((-(x@11 ^@12 2@13)@11)@10 +@15 f@17(y@19)[i@22]@17)@10");
        CHECK(located("fn f(x) =   (a)*b") == "(a@13 *@15 b@16)@13");
        CHECK(located("fn f(x) = sum(i in 0..3: i)") == "sum@10(i@14 in 0@19..3@22: i@25)");
        CHECK(located("fn f(x) = if a then [b] else not c") ==
              "(if a@13 then [b@21]@20 else (not c@33)@29)@10");
        ast::Program program = parse("\n  fn f(x, v[3]) {\n    let y = 1\n    return y\n}");
        const auto& f = boost::get<ast::Function>(program.items[0]);
        CHECK(f.offset == 3);
        CHECK(f.params[0].offset == 8);
        CHECK(f.params[1].offset == 11);
        CHECK(boost::get<ast::Let>(f.body[0]).offset == 23);
        CHECK(boost::get<ast::Return>(f.body[1]).offset == 37);
    }

    TEST_CASE("offset_of") {
        ast::Expr e = body_of("  a + b");
        CHECK(ast::offset_of(e) == 12);
        CHECK(ast::offset_of(body_of("-(x)")) == 10);
        CHECK(ast::offset_of(body_of("(x)")) == 11);
    }

    TEST_CASE("SourceFile::offsets are the offsets locate() places on a line") {
        for (const std::string text : {"a\nbc\n\nd", "a\r\nb\n", ""}) {
            SourceFile source("t.expr", text);
            for (std::size_t offset = 0; offset <= text.size() + 2; ++offset) {
                const std::size_t line = source.locate(offset).line;
                const auto [first, second] = source.offsets(line);
                CHECK(first <= offset);
                CHECK(offset < second);
                if (line > 1) CHECK(source.offsets(line - 1).second == first);
            }
        }
    }

    TEST_CASE("syntax errors: messages and positions") {
        struct Case {
            const char* text;
            const char* line_col;
            const char* message;
        };
        const Case cases[] = {
            {"fn f(x) = (x + 1\nfn g(y) = y", "2:1", "expected ')' to close '('"},
            {"fn f(x) = ", "1:11", "expected an expression"},
            {"fn f(x) = )", "1:11", "expected an expression"},
            {"fn f(x) = x +\n", "1:14", "expected an expression"},
            {"fn f(x) x", "1:9", "expected '=' or '{' after the parameter list"},
            {"fn f(x)\n", "1:8", "expected '=' or '{' after the parameter list"},
            {"const if = 1", "1:7", "'if' is a keyword and cannot be used as a name"},
            {"fn f(x) { let then = 3\nreturn 1 }", "1:15",
             "'then' is a keyword and cannot be used as a name"},
            {"fn in(x) = x", "1:4", "'in' is a keyword and cannot be used as a name"},
            {"fn f(x, return) = x", "1:9", "'return' is a keyword and cannot be used as a name"},
            {"fn f(x) = sum(let in 0..3: x)", "1:15",
             "'let' is a keyword and cannot be used as a name"},
            {"fn f(x) = x + else", "1:15", "'else' is a keyword and cannot be used as a name"},
            {"fn f(x) = x < not y", "1:15",
             "'not' binds more loosely than arithmetic and comparisons here: write (not ...)"},
            {"fn f(x) = x @ y", "1:13", "unexpected character '@'"},
            {"fn f(x) = x y", "1:13",
             "unexpected name 'y': expected a newline or ';' to end the statement"},
            {"fn f(x) = x = 3", "1:13",
             "unexpected '=': expected a newline or ';' to end the statement"},
            {"fn f(x) = x)", "1:12", "unexpected ')' without a matching '('"},
            {"fn f(x) = x[1", "1:14", "expected ']' to close '['"},
            {"fn f(x) = [1, 2", "1:16", "expected ']' to close '['"},
            {"fn f(x) = f(1 2)", "1:15", "expected ',' or ')' in the argument list"},
            {"fn f(x) = f(1,)", "1:15", "expected an expression"},
            {"fn f(x) = if x then y", "1:22", "expected 'else': every 'if' needs an 'else'"},
            {"fn f(x) = if x y else z", "1:16", "expected 'then' after the condition of 'if'"},
            {"fn f(x) = sum(i in 0..3 x)", "1:25", "expected ',' or ':' after the range"},
            {"fn f(x) = sum(i in 0:3: x)", "1:21", "expected '..' between the bounds of the range"},
            {"fn f(x) = sum(i in 0..3: x", "1:27", "expected ')' to close the reduction"},
            {"fn f(x) = foo(i in 0..3: x)", "1:11",
             "'foo' cannot take ranges: only sum, prod, max and min can"},
            {"fn f(x,) = x", "1:8", "expected a parameter name"},
            {"fn f(x = x", "1:8", "expected ',' or ')' in the parameter list"},
            {"fn (x) = x", "1:4", "expected a function name after 'fn'"},
            {"fn f x = x", "1:6", "expected '(' after the function name"},
            {"const N 3", "1:9", "expected '=' after the constant's name"},
            {"fn f(x) { let y = 1 2 }", "1:21",
             "unexpected number '2': expected a newline or ';' to end the statement"},
            {"fn f(x) { let y = 1\nfoo }", "2:1", "expected 'let', 'return' or '}'"},
            {"fn f(x) { let y 1 }", "1:17", "expected '=' after the name in 'let'"},
            {"fn f(x) { let v[0] = 1 }", "1:17", "expected a range such as 'i in 0..N'"},
            {"fn f(x) { let v[i 0..3] = 1 }", "1:19", "expected 'in' after the range variable"},
            {"fn f(x) { return 1", "1:19", "expected '}' to close the function body"},
            {"fn f(x) {\n return 1\n", "3:1", "expected '}' to close the function body"},
            {"fn f(x) {\n return 1\n}}", "3:2", "unexpected '}' without a matching '{'"},
            {"let x = 1", "1:1",
             "unexpected keyword 'let': statements belong inside a function body"},
            {"x = 1", "1:1", "expected 'fn' or 'const' to start a definition, found name 'x'"},
            {"fn f(x) = 1.", "1:12",
             "unexpected '.': expected a newline or ';' to end the statement"},
            {"fn f(x) = x ** 2", "1:14", "expected an expression"},
            {"fn f(x) = x\n}", "2:1", "unexpected '}' without a matching '{'"},
            {"\x01\x02", "1:1", "unexpected byte 0x01"},
            {"fn f(x) = x # ok\n\xc3\xa9", "2:1", "unexpected byte 0xc3"},
        };
        for (const Case& c : cases) {
            std::string text = c.text;
            CAPTURE(text);
            Failure f = failure(text);
            CAPTURE(f.message);
            CHECK(f.line_col == c.line_col);
            CHECK(f.message.rfind(c.message, 0) == 0);
        }
    }

    TEST_CASE("deep nesting is an error, not a crash") {
        const std::string too_deep = "expression nested too deeply (more than 1000 levels)";
        const std::size_t n = 100000;
        CHECK(failure("fn f(x) = " + repeat("(", n) + "x" + repeat(")", n)).message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("(", n)).message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("-", n) + "x").message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("not ", n) + "x").message == too_deep);
        CHECK(failure("fn f(x) = x" + repeat("^x", n)).message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("if x then 1 else ", n) + "0").message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("exp(", n) + "x" + repeat(")", n)).message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("x[", n) + "0" + repeat("]", n)).message == too_deep);
        CHECK(failure("fn f(x) = " + repeat("[", n) + "0" + repeat("]", n)).message == too_deep);
        Failure f = failure("fn f(x) = " + repeat("(", 2000) + "x" + repeat(")", 2000));
        CHECK(f.offset == 10 + 1000); // the first parenthesis past the limit... its content
        // Up to the limit everything parses (and fits comfortably in an 8 MB stack).
        CHECK(parse("fn f(x) = " + repeat("(", 998) + "x" + repeat(")", 998)).items.size() == 1);
        CHECK(parse("fn f(x) = " + repeat("- ", 998) + "x").items.size() == 1);
        CHECK(parse("fn f(x) = x" + repeat("^x", 998)).items.size() == 1);
        CHECK(parse("fn f(x) = " + repeat("f(x, ", 998) + "x" + repeat(")", 998)).items.size() ==
              1);
    }

    TEST_CASE("long flat inputs parse without recursion") {
        std::string sum = "fn f(x) = 0" + repeat(" + 2.5 * x", 200000) + "\n";
        ast::Expr e =
            boost::get<ast::Return>(boost::get<ast::Function>(parse(sum).items.at(0)).body.at(0))
                .value;
        CHECK(boost::get<ast::x3::forward_ast<ast::Binary>>(e).get().rest.size() == 200000);
        std::string consts;
        for (int i = 0; i < 20000; ++i)
            consts += "const C" + std::to_string(i) + " = " + std::to_string(i) + "\n";
        CHECK(parse(consts).items.size() == 20000);
    }

    TEST_CASE("garbage input is rejected cleanly") {
        std::string garbage;
        unsigned state = 12345;
        for (int round = 0; round < 200; ++round) {
            garbage.clear();
            for (int i = 0; i < 300; ++i) {
                state = state * 1103515245u + 12345u;
                garbage += static_cast<char>(state >> 16);
            }
            try {
                parse(garbage);
            } catch (const CompileError& e) {
                CHECK(e.offset() <= garbage.size());
            }
        }
        // Random tokens of the language itself.
        const char* tokens[] = {"fn",  "f",   "(",      ")",     "[",    "]",    "{",  "}",
                                "=",   "+",   "-",      "^",     "x",    "1",    ".5", "..",
                                ",",   ":",   "in",     "if",    "then", "else", "\n", ";",
                                "sum", "let", "return", "const", "not",  "<",    "#"};
        for (int round = 0; round < 500; ++round) {
            std::string text;
            for (int i = 0; i < 40; ++i) {
                state = state * 1103515245u + 12345u;
                text += tokens[(state >> 16) % (sizeof tokens / sizeof *tokens)];
                text += ' ';
            }
            try {
                parse(text);
            } catch (const CompileError& e) {
                CHECK(e.offset() <= text.size());
                CHECK(std::string(e.what()).size() > 0);
            }
        }
    }

} // TEST_SUITE
