// Typed helpers on top of the h5.h wrappers: scalar and string attributes, 1-D datasets of
// numbers and strings (whole or appended), n-D float32 arrays. Everything throws StorageError.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "h5.h"

namespace phasesweep::storage::detail {

template <typename T>
hid_t NativeType() {
  if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  if constexpr (std::is_same_v<T, int64_t>) return H5T_NATIVE_INT64;
  if constexpr (std::is_same_v<T, uint64_t>) return H5T_NATIVE_UINT64;
  if constexpr (std::is_same_v<T, int32_t>) return H5T_NATIVE_INT32;
}

// Attributes. Readers convert numeric types as HDF5 does; a string attribute may be stored
// variable- or fixed-length (we write variable-length UTF-8).
void WriteStringAttr(hid_t obj, const std::string& name, const std::string& value);
std::string ReadStringAttr(hid_t obj, const std::string& name);
template <typename T>
void WriteScalarAttr(hid_t obj, const std::string& name, T value) {
  Handle space = ScalarSpace();
  if (AttrExists(obj, name)) AttrDelete(obj, name);
  Handle attr = AttrCreate(obj, name, NativeType<T>(), space.get());
  AttrWrite(attr.get(), NativeType<T>(), &value);
}
template <typename T>
T ReadScalarAttr(hid_t obj, const std::string& name) {
  Handle attr = AttrOpen(obj, name);
  T value{};
  AttrRead(attr.get(), NativeType<T>(), &value);
  return value;
}

// Compression for trace datasets: shuffle + deflate at this level.
inline constexpr int kDeflateLevel = 4;
// Chunk length for extendible 1-D datasets (the index, merged-shard names).
inline constexpr hsize_t kIndexChunk = 4096;

// 1-D numeric dataset written whole: chunked (one chunk up to 65,536 values) and compressed when
// `compress`, else contiguous. Empty vectors give an empty contiguous dataset.
template <typename T>
void WriteVector(hid_t loc, const std::string& name, const std::vector<T>& values, bool compress);
template <typename T>
std::vector<T> ReadVector(hid_t loc, const std::string& name);
// Reads values[start, start + count) of a 1-D dataset.
template <typename T>
std::vector<T> ReadVectorRange(hid_t dset, hsize_t start, hsize_t count);

// Extendible 1-D datasets (chunked, unlimited, uncompressed so rewrites happen in place).
template <typename T>
void CreateExtendible(hid_t loc, const std::string& name, const std::vector<T>& values);
// Writes values at [start, start + n), growing the dataset if needed.
template <typename T>
void WriteRange(hid_t loc, const std::string& name, hsize_t start, const std::vector<T>& values);

// String datasets. Variable-length UTF-8 ones (extendible) hold ids and JSON; fixed-width ones
// hold short enumerations (status) that are rewritten in place.
void CreateVarStrings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
void AppendVarStrings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
// Overwrites one element (the old string's heap space is not reused: keep this rare).
void WriteVarStringAt(hid_t loc, const std::string& name, hsize_t row, const std::string& value);
void CreateFixedStrings(hid_t loc, const std::string& name, size_t width,
                        const std::vector<std::string>& values);
void WriteFixedStringsRange(hid_t loc, const std::string& name, size_t width, hsize_t start,
                            const std::vector<std::string>& values);
std::vector<std::string> ReadStrings(hid_t loc, const std::string& name);

// n-D float32 array (a snapshot): chunked as one chunk when small enough, compressed.
void WriteFloatArray(hid_t loc, const std::string& name, const std::vector<int64_t>& shape,
                     const std::vector<float>& data);
void ReadFloatArray(hid_t loc, const std::string& name, std::vector<int64_t>* shape,
                    std::vector<float>* data);

hsize_t DatasetLength(hid_t loc, const std::string& name);

}  // namespace phasesweep::storage::detail
