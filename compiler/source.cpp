#include "compiler/source.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <new>
#include <sstream>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace gradc {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

SourceFile SourceFile::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": error: cannot open file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw InputError(path + ": error: cannot read file");
    return SourceFile(path, text.str());
}

LineColumn SourceFile::locate(std::size_t offset) const {
    offset = std::min(offset, text_.size());
    auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    std::size_t line = static_cast<std::size_t>(std::distance(line_starts_.begin(), next));
    return {line, offset - line_starts_[line - 1] + 1};
}

std::pair<std::size_t, std::size_t> SourceFile::offsets(std::size_t line) const {
    const std::size_t end =
        line < line_starts_.size() ? line_starts_[line] : std::numeric_limits<std::size_t>::max();
    return {line_starts_.at(line - 1), end}; // offsets past the text count as its last line
}

std::string_view SourceFile::line_text(std::size_t line) const {
    std::size_t begin = line_starts_.at(line - 1);
    std::size_t end = line < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
    if (end > begin && text_[end - 1] == '\r') --end;
    return std::string_view(text_).substr(begin, end - begin);
}

#if defined(__linux__)
namespace {
constexpr std::size_t huge_page = std::size_t{2} << 20;

std::size_t pages(std::size_t bytes) {
    constexpr std::size_t page = 4096;
    return (bytes + page - 1) / page * page;
}

// A mapping of `bytes` that starts on a huge page boundary and asks for huge pages.
void* map_aligned(std::size_t bytes) {
    bytes = pages(bytes);
    void* span = mmap(nullptr, bytes + huge_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (span == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(span);
    const std::uintptr_t aligned = (start + huge_page - 1) & ~(huge_page - 1);
    if (aligned != start) munmap(span, aligned - start);
    munmap(reinterpret_cast<void*>(aligned + bytes), start + huge_page - aligned);
    void* block = reinterpret_cast<void*>(aligned);
    madvise(block, bytes, MADV_HUGEPAGE); // only a hint: fine if it fails
    return block;
}
} // namespace
#endif

void* resize_block(void* old, std::size_t old_bytes, std::size_t new_bytes) {
#if defined(__linux__)
    if (new_bytes >= huge_page || old_bytes >= huge_page) {
        if (new_bytes == 0) {
            munmap(old, old_bytes);
            return nullptr;
        }
        void* block = map_aligned(new_bytes);
        if (old_bytes >= huge_page) {
            // The old pages move to the start of the new block: huge pages stay whole, as both
            // blocks start on a huge page boundary (a move to any other address would split them).
            if (mremap(old, old_bytes, pages(old_bytes), MREMAP_MAYMOVE | MREMAP_FIXED, block) ==
                MAP_FAILED)
                throw std::bad_alloc();
        } else if (old_bytes != 0) {
            std::memcpy(block, old, old_bytes);
            std::free(old);
        }
        return block;
    }
#endif
    if (new_bytes == 0) {
        std::free(old);
        return nullptr;
    }
    void* block = std::realloc(old, new_bytes);
    if (!block) throw std::bad_alloc();
    return block;
}

std::string format_diagnostic(const SourceFile& source, std::size_t offset,
                              std::string_view message) {
    LineColumn at = source.locate(offset);
    std::string_view line = source.line_text(at.line);
    constexpr std::size_t shown = 200; // long lines are cut around the column
    std::size_t from = at.column > shown ? at.column - shown / 2 : 0;
    std::string quoted(line.substr(from, shown));
    std::string caret;
    for (std::size_t i = from; i + 1 < at.column && i < line.size(); ++i)
        caret += line[i] == '\t' ? '\t' : ' ';
    for (char& c : quoted) // keep the terminal sane when the input is binary
        if ((static_cast<unsigned char>(c) < 32 && c != '\t') || c == 127) c = '?';
    std::string out = source.path() + ":" + std::to_string(at.line) + ":" +
                      std::to_string(at.column) + ": error: " + std::string(message) + "\n";
    out += "  " + quoted + "\n  " + caret + "^\n";
    return out;
}

} // namespace gradc
