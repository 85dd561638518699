// Byte buffers, hex, fixed-width little-endian encoding and a bounds-checked
// reader for parsing bytes that come from outside (packs, indexes, manifests).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ferry {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// An allocator whose resize() leaves new bytes uninitialised: buffers that are
// about to be overwritten (pack assembly, compression output) would otherwise
// be zero-filled first, which costs as much as a copy on the backup hot path.
// Its memory is page-aligned, so a finished pack can be written with O_DIRECT.
constexpr size_t kBufferAlignment = 4096;
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kBufferAlignment}));
  }
  void deallocate(T* p, size_t) noexcept {
    ::operator delete (p, std::align_val_t{kBufferAlignment});
  }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using BufferBytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;

// Appends with one memcpy. BufferBytes::insert() constructs each byte through
// the allocator (it is not std::allocator itself), in a loop the compiler need
// not turn back into a memcpy.
inline void AppendBytes(BufferBytes& buffer, ByteView data) {
  if (data.empty()) return;
  size_t old_size = buffer.size();
  buffer.resize(old_size + data.size());
  std::memcpy(buffer.data() + old_size, data.data(), data.size());
}

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string HexEncode(ByteView data);

// "3.1 GiB": sizes in messages.
std::string HumanBytes(uint64_t bytes);
// "500M", "2G", "1.5T", "4096": binary units (K = 1024 bytes), an optional
// "iB"/"B" suffix. InvalidArgument for anything else or zero.
Result<uint64_t> ParseByteSize(const std::string& text);
// Fails on odd length or a non-hex character.
Result<Bytes> HexDecode(std::string_view hex);
// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);
// A size or count from outside (a header, a listing): decimal digits only —
// no sign, no blanks, no leading "+" — and at most 19 of them, so that it
// cannot overflow. False otherwise, leaving `value` alone.
bool ParseDecimalDigits(std::string_view text, uint64_t* value);

std::string Base64Encode(ByteView data);
Result<Bytes> Base64Decode(std::string_view text);

inline void AppendU8(Bytes& out, uint8_t v) { out.push_back(v); }
inline void AppendU32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void AppendU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void AppendBytes(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }
inline uint32_t LoadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t LoadU64(const uint8_t* p) {
  return uint64_t(LoadU32(p)) | uint64_t(LoadU32(p + 4)) << 32;
}

// Reads fixed-width fields from untrusted bytes. Every read is checked against
// the end; after the first failure all reads fail and ok() stays false, so a
// parser can read a whole record and check once.
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return data_[pos_++];
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = LoadU32(&data_[pos_]);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = LoadU64(&data_[pos_]);
    pos_ += 8;
    return v;
  }
  ByteView Take(size_t n) {
    if (!Need(n)) return {};
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  template <size_t N>
  std::array<uint8_t, N> Array() {
    std::array<uint8_t, N> out{};
    ByteView v = Take(N);
    if (ok_) std::memcpy(out.data(), v.data(), N);
    return out;
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ferry
