// The CMake package end to end: install this build's gradc into a fresh prefix with
// `cmake --install`, then configure, build and run samples/cmake-embed from a clean copy against
// it, as a user would. Checks what gradc_add_library promises: headers generated into the build
// tree (never the source tree), regenerated when a .expr file or the gradc binary changes.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support.hpp"

using namespace gradc::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
}

// Runs a command, printing its output when it fails.
CommandResult checked(const std::string& command) {
    CommandResult r = run(command);
    if (r.status != 0) MESSAGE(command << "\n" << r.out << r.err);
    return r;
}

} // namespace

TEST_CASE("cmake package: samples/cmake-embed builds and runs against the installed gradc") {
    // The build tree that holds this gradc: the first parent with a CMakeCache.txt.
    fs::path build = fs::path(gradc_binary()).parent_path();
    while (!fs::exists(build / "CMakeCache.txt") && build.has_parent_path() &&
           build != build.root_path())
        build = build.parent_path();
    REQUIRE(fs::exists(build / "CMakeCache.txt"));

    const fs::path dir = work_dir("cmake_package");
    const fs::path prefix = dir / "prefix", source = dir / "source", binary = dir / "build";
    REQUIRE(checked("cmake --install '" + build.string() + "' --prefix '" + prefix.string() + "'")
                .status == 0);
    CHECK(fs::exists(prefix / "bin/gradc"));
    fs::copy(fs::path(source_dir()) / "samples/cmake-embed", source, fs::copy_options::recursive);

    REQUIRE(checked("cmake -S '" + source.string() + "' -B '" + binary.string() +
                    "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH='" + prefix.string() +
                    "' -DCMAKE_CXX_COMPILER='" + gxx() + "'")
                .status == 0);
    CommandResult r = checked("cmake --build '" + binary.string() + "'");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "generating rosenbrock.hpp"));
    CHECK(contains(r.out, "generating beale.hpp"));
    CHECK(fs::exists(binary / "gradc_generated/rosenbrock_math/rosenbrock.hpp"));
    for (const auto& entry : fs::recursive_directory_iterator(source))
        CHECK_MESSAGE(entry.path().extension() != ".hpp",
                      "generated into the source tree: " << entry.path());

    r = checked("'" + (binary / "minimize").string() + "'");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "at (1.000000, 1.000000, 1.000000, 1.000000, 1.000000, 1.000000)"));
    CHECK((contains(r.out, "at (3.0000, 0.5000)") || contains(r.out, "at (2.9997, 0.4999)") ||
           contains(r.out, "at (2.999")));

    // A changed .expr regenerates its header (and only its header), a changed gradc every header.
    write_file((source / "beale.expr").string(),
               read_file((source / "beale.expr").string()) + "# edited\n");
    r = checked("cmake --build '" + binary.string() + "'");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "generating beale.hpp"));
    CHECK_FALSE(contains(r.out, "generating rosenbrock.hpp"));
    const fs::path installed = prefix / "bin/gradc";
    fs::last_write_time(installed, fs::file_time_type::clock::now());
    r = checked("cmake --build '" + binary.string() + "'");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "generating rosenbrock.hpp"));
    CHECK(contains(r.out, "generating beale.hpp"));
}
