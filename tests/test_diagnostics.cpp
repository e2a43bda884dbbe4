// Every error in tests/golden/errors/NAME.expr must print exactly NAME.err (file:line:col, the
// line, a caret), exit with status 1, and write no output file. Regenerate an .err only after
// reading the new message: the text is the contract with users.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support.hpp"

using namespace gradc::test;
namespace fs = std::filesystem;

TEST_CASE("golden diagnostics: every bad input gives its expected message") {
    const fs::path dir = fs::path(source_dir()) / "tests/golden/errors";
    const std::string out = work_dir("diagnostics") + "/out.hpp";
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".expr") continue;
        ++cases;
        const std::string name = entry.path().filename().string();
        CAPTURE(name);
        const CommandResult r =
            run("cd " + dir.string() + " && " + gradc_binary() + " compile " + name + " -o " + out);
        CHECK(r.status == 1);
        CHECK(r.err == read_file(fs::path(entry.path()).replace_extension(".err").string()));
        CHECK_FALSE(fs::exists(out));
    }
    CHECK(cases >= 40);
}

namespace {

// Compiles `text` with a time limit; returns the result. A crash or hang shows as status >= 124.
CommandResult compile_text(const std::string& name, const std::string& text) {
    const std::string dir = work_dir("pathological_" + name);
    write_file(dir + "/" + name + ".expr", text);
    return run("cd " + dir + " && timeout 60 " + gradc_binary() + " compile " + name +
               ".expr -o out.hpp");
}

std::string repeat(const std::string& piece, std::size_t times) {
    std::string s;
    s.reserve(piece.size() * times);
    for (std::size_t i = 0; i < times; ++i)
        s += piece;
    return s;
}

} // namespace

TEST_CASE("pathological inputs give an error or a result, never a crash or a hang") {
    SUBCASE("100k nested parentheses") {
        CommandResult r = compile_text("parens", "fn f(x) = " + repeat("(", 100000) + "x" +
                                                     repeat(")", 100000) + "\n");
        CHECK(r.status == 1);
        CHECK(r.err.find("nested too deeply") != std::string::npos);
    }
    SUBCASE("100k unary minus signs") {
        CommandResult r = compile_text("minus", "fn f(x) = " + repeat("- ", 100000) + "x\n");
        CHECK((r.status == 0 || r.status == 1));
    }
    SUBCASE("a chain of 100k powers") {
        CommandResult r = compile_text("powers", "fn f(x) = x" + repeat("^x", 100000) + "\n");
        CHECK((r.status == 0 || r.status == 1));
    }
    SUBCASE("a 50 MB file: a sum of 200 000 terms, then comments") {
        std::string text = "fn f(x) = x";
        for (int i = 0; i < 200'000; ++i)
            text += " + " + std::to_string(1000000 + i) + "*x";
        text += "\n" + repeat("# a comment line that pads the file to fifty megabytes\n", 900'000);
        CHECK(text.size() > 50'000'000);
        const std::string dir = work_dir("pathological_large");
        write_file(dir + "/large.expr", text);
        CommandResult r =
            run("cd " + dir + " && timeout 600 " + gradc_binary() + // a hang, not a speed test
                " compile large.expr --mode primal -o out.hpp");
        CHECK(r.status == 0);
    }
    SUBCASE("binary garbage") {
        std::string text;
        unsigned state = 12345;
        for (int i = 0; i < 100000; ++i)
            text += static_cast<char>((state = state * 1103515245u + 12345u) >> 16);
        CommandResult r = compile_text("garbage", text);
        CHECK(r.status == 1);
    }
    SUBCASE("an empty file compiles to an empty header") {
        CommandResult r = compile_text("empty", "");
        CHECK(r.status == 0);
    }
    SUBCASE("numbers out of range") {
        CommandResult r = compile_text("huge", "fn f(x) = x * 1e999\n");
        CHECK(r.status == 1);
        CHECK(r.err.find("too large") != std::string::npos);
    }
    SUBCASE("repeated inlining is memoised: sixty levels of doubling compile at once") {
        std::string text = "fn f0(x) = sin(x)\n";
        for (int i = 1; i < 60; ++i)
            text += "fn f" + std::to_string(i) + "(x) = f" + std::to_string(i - 1) + "(x) + f" +
                    std::to_string(i - 1) + "(x * 1.5)\n";
        CommandResult r = compile_text("inlining", text);
        CHECK(r.status == 0);
    }
    SUBCASE("loops that build no node still stop at the node limit") {
        CommandResult r =
            compile_text("spin", "fn f(x) = x + sum(i in 0..100000, j in 0..100000: 0)\n");
        CHECK(r.status == 1);
        CHECK(r.err.find("node limit") != std::string::npos);
    }
}
