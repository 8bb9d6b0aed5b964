// Typed attribute and dataset helpers (see h5_io.h).
#include "h5_io.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace phasesweep::storage::detail {
namespace {

constexpr hsize_t kMaxTraceChunk = 65536;

[[noreturn]] void Malformed(const std::string& name, const std::string& what) {
  Throw(Status::Corruption("dataset '" + name + "' " + what));
}

hsize_t Length1D(hid_t dset, const std::string& name) {
  Handle space = DatasetSpace(dset);
  std::vector<hsize_t> dims = SpaceDims(space.get());
  if (dims.size() != 1) Malformed(name, "is not one-dimensional");
  return dims[0];
}

hsize_t ExtendibleChunk(size_t n) {
  return std::clamp<hsize_t>(static_cast<hsize_t>(n), 64, kIndexChunk);
}

// Grows a 1-D extendible dataset to at least `size` elements and returns a file space with
// [start, start + count) selected.
Handle SelectForWrite(hid_t dset, const std::string& name, hsize_t start, hsize_t count) {
  hsize_t length = Length1D(dset, name);
  if (start + count > length) DatasetSetExtent(dset, {start + count});
  Handle space = DatasetSpace(dset);
  SelectRange(space.get(), start, count);
  return space;
}

}  // namespace

void WriteStringAttr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = VarStringType();
  Handle space = ScalarSpace();
  if (AttrExists(obj, name)) AttrDelete(obj, name);
  Handle attr = AttrCreate(obj, name, type.get(), space.get());
  const char* ptr = value.c_str();
  AttrWrite(attr.get(), type.get(), &ptr);
}

std::string ReadStringAttr(hid_t obj, const std::string& name) {
  Handle attr = AttrOpen(obj, name);
  Handle file_type = AttrType(attr.get());
  if (TypeClass(file_type.get()) != H5T_STRING) {
    Throw(Status::Corruption("attribute '" + name + "' is not a string"));
  }
  if (IsVariableString(file_type.get())) {
    Handle mem = VarStringType();
    char* ptr = nullptr;
    AttrRead(attr.get(), mem.get(), &ptr);
    std::string value = ptr ? ptr : "";
    Handle space = AttrSpace(attr.get());
    ReclaimVarStrings(mem.get(), space.get(), &ptr);
    return value;
  }
  size_t size = TypeSize(file_type.get());
  std::string buf(size, '\0');
  AttrRead(attr.get(), file_type.get(), buf.data());
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

template <typename T>
void WriteVector(hid_t loc, const std::string& name, const std::vector<T>& values, bool compress) {
  const hsize_t n = values.size();
  Handle space = SimpleSpace({n});
  std::vector<hsize_t> chunk;
  if (compress && n > 0) chunk = {std::min(n, kMaxTraceChunk)};
  Handle dset = DatasetCreate(loc, name, NativeType<T>(), space.get(), chunk,
                              chunk.empty() ? -1 : kDeflateLevel);
  if (n > 0) DatasetWrite(dset.get(), NativeType<T>(), H5S_ALL, H5S_ALL, values.data());
  dset.CloseChecked(name);
}

template <typename T>
std::vector<T> ReadVector(hid_t loc, const std::string& name) {
  Handle dset = DatasetOpen(loc, name);
  std::vector<T> values(Length1D(dset.get(), name));
  if (!values.empty()) DatasetRead(dset.get(), NativeType<T>(), H5S_ALL, H5S_ALL, values.data());
  return values;
}

template <typename T>
std::vector<T> ReadVectorRange(hid_t dset, hsize_t start, hsize_t count) {
  std::vector<T> values(count);
  if (count == 0) return values;
  Handle file_space = DatasetSpace(dset);
  SelectRange(file_space.get(), start, count);
  Handle mem_space = SimpleSpace({count});
  DatasetRead(dset, NativeType<T>(), mem_space.get(), file_space.get(), values.data());
  return values;
}

template <typename T>
void CreateExtendible(hid_t loc, const std::string& name, const std::vector<T>& values) {
  const hsize_t n = values.size();
  Handle space = SimpleSpace({n}, {H5S_UNLIMITED});
  Handle dset = DatasetCreate(loc, name, NativeType<T>(), space.get(), {ExtendibleChunk(n)}, -1);
  if (n > 0) DatasetWrite(dset.get(), NativeType<T>(), H5S_ALL, H5S_ALL, values.data());
  dset.CloseChecked(name);
}

template <typename T>
void WriteRange(hid_t loc, const std::string& name, hsize_t start, const std::vector<T>& values) {
  if (values.empty()) return;
  Handle dset = DatasetOpen(loc, name);
  Handle file_space = SelectForWrite(dset.get(), name, start, values.size());
  Handle mem_space = SimpleSpace({values.size()});
  DatasetWrite(dset.get(), NativeType<T>(), mem_space.get(), file_space.get(), values.data());
  dset.CloseChecked(name);
}

#define PHASESWEEP_INSTANTIATE(T)                                                       \
  template void WriteVector<T>(hid_t, const std::string&, const std::vector<T>&, bool); \
  template std::vector<T> ReadVector<T>(hid_t, const std::string&);                     \
  template std::vector<T> ReadVectorRange<T>(hid_t, hsize_t, hsize_t);                  \
  template void CreateExtendible<T>(hid_t, const std::string&, const std::vector<T>&);  \
  template void WriteRange<T>(hid_t, const std::string&, hsize_t, const std::vector<T>&);
PHASESWEEP_INSTANTIATE(double)
PHASESWEEP_INSTANTIATE(float)
PHASESWEEP_INSTANTIATE(int64_t)
PHASESWEEP_INSTANTIATE(uint64_t)
PHASESWEEP_INSTANTIATE(int32_t)
#undef PHASESWEEP_INSTANTIATE

void CreateVarStrings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  const hsize_t n = values.size();
  Handle type = VarStringType();
  Handle space = SimpleSpace({n}, {H5S_UNLIMITED});
  Handle dset = DatasetCreate(loc, name, type.get(), space.get(), {ExtendibleChunk(n)}, -1);
  if (n == 0) return;
  std::vector<const char*> ptrs;
  ptrs.reserve(n);
  for (const std::string& s : values) ptrs.push_back(s.c_str());
  DatasetWrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, ptrs.data());
  dset.CloseChecked(name);
}

void AppendVarStrings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  if (values.empty()) return;
  Handle dset = DatasetOpen(loc, name);
  hsize_t start = Length1D(dset.get(), name);
  Handle file_space = SelectForWrite(dset.get(), name, start, values.size());
  Handle mem_space = SimpleSpace({values.size()});
  Handle type = VarStringType();
  std::vector<const char*> ptrs;
  for (const std::string& s : values) ptrs.push_back(s.c_str());
  DatasetWrite(dset.get(), type.get(), mem_space.get(), file_space.get(), ptrs.data());
  dset.CloseChecked(name);
}

void WriteVarStringAt(hid_t loc, const std::string& name, hsize_t row, const std::string& value) {
  Handle dset = DatasetOpen(loc, name);
  Handle file_space = SelectForWrite(dset.get(), name, row, 1);
  Handle mem_space = SimpleSpace({1});
  Handle type = VarStringType();
  const char* ptr = value.c_str();
  DatasetWrite(dset.get(), type.get(), mem_space.get(), file_space.get(), &ptr);
  dset.CloseChecked(name);
}

namespace {
std::vector<char> PackFixed(size_t width, const std::vector<std::string>& values) {
  std::vector<char> buf(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    std::memcpy(buf.data() + i * width, values[i].data(), std::min(width, values[i].size()));
  }
  return buf;
}
}  // namespace

void CreateFixedStrings(hid_t loc, const std::string& name, size_t width,
                        const std::vector<std::string>& values) {
  const hsize_t n = values.size();
  Handle type = FixedStringType(width);
  Handle space = SimpleSpace({n}, {H5S_UNLIMITED});
  Handle dset = DatasetCreate(loc, name, type.get(), space.get(), {ExtendibleChunk(n)}, -1);
  if (n == 0) return;
  std::vector<char> buf = PackFixed(width, values);
  DatasetWrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, buf.data());
  dset.CloseChecked(name);
}

void WriteFixedStringsRange(hid_t loc, const std::string& name, size_t width, hsize_t start,
                            const std::vector<std::string>& values) {
  if (values.empty()) return;
  Handle dset = DatasetOpen(loc, name);
  Handle file_space = SelectForWrite(dset.get(), name, start, values.size());
  Handle mem_space = SimpleSpace({values.size()});
  Handle type = FixedStringType(width);
  std::vector<char> buf = PackFixed(width, values);
  DatasetWrite(dset.get(), type.get(), mem_space.get(), file_space.get(), buf.data());
  dset.CloseChecked(name);
}

std::vector<std::string> ReadStrings(hid_t loc, const std::string& name) {
  Handle dset = DatasetOpen(loc, name);
  const hsize_t n = Length1D(dset.get(), name);
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  Handle file_type = DatasetType(dset.get());
  if (TypeClass(file_type.get()) != H5T_STRING) Malformed(name, "does not hold strings");
  if (IsVariableString(file_type.get())) {
    Handle mem = VarStringType();
    std::vector<char*> ptrs(n, nullptr);
    DatasetRead(dset.get(), mem.get(), H5S_ALL, H5S_ALL, ptrs.data());
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    Handle space = DatasetSpace(dset.get());
    ReclaimVarStrings(mem.get(), space.get(), ptrs.data());
    return out;
  }
  const size_t width = TypeSize(file_type.get());
  std::vector<char> buf(width * n);
  DatasetRead(dset.get(), file_type.get(), H5S_ALL, H5S_ALL, buf.data());
  for (hsize_t i = 0; i < n; ++i) {
    const char* p = buf.data() + i * width;
    size_t len = 0;
    while (len < width && p[len] != '\0') ++len;
    while (len > 0 && p[len - 1] == ' ') --len;  // space-padded strings from other writers
    out.emplace_back(p, len);
  }
  return out;
}

void WriteFloatArray(hid_t loc, const std::string& name, const std::vector<int64_t>& shape,
                     const std::vector<float>& data) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space = SimpleSpace(dims);
  // One chunk per array when it fits in 4 MiB (the common embedding-matrix case); otherwise
  // chunk along the first axis.
  std::vector<hsize_t> chunk = dims;
  bool any_zero = dims.empty();
  for (hsize_t d : dims) any_zero = any_zero || d == 0;
  if (!any_zero) {
    hsize_t row = 1;
    for (size_t i = 1; i < dims.size(); ++i) row *= dims[i];
    const hsize_t max_elems = hsize_t{1} << 20;
    chunk[0] = std::max<hsize_t>(1, std::min(dims[0], max_elems / std::max<hsize_t>(row, 1)));
    if (row > max_elems) any_zero = true;  // a single row over 4 MiB: store contiguous
  }
  Handle dset =
      DatasetCreate(loc, name, H5T_NATIVE_FLOAT, space.get(),
                    any_zero ? std::vector<hsize_t>{} : chunk, any_zero ? -1 : kDeflateLevel);
  if (!data.empty()) DatasetWrite(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, data.data());
  dset.CloseChecked(name);
}

void ReadFloatArray(hid_t loc, const std::string& name, std::vector<int64_t>* shape,
                    std::vector<float>* data) {
  Handle dset = DatasetOpen(loc, name);
  Handle space = DatasetSpace(dset.get());
  std::vector<hsize_t> dims = SpaceDims(space.get());
  shape->assign(dims.begin(), dims.end());
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  data->assign(n, 0.0f);
  if (n > 0) DatasetRead(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, data->data());
}

hsize_t DatasetLength(hid_t loc, const std::string& name) {
  Handle dset = DatasetOpen(loc, name);
  return Length1D(dset.get(), name);
}

}  // namespace phasesweep::storage::detail
