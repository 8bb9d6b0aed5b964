// Checked wrappers over the HDF5 C calls the storage library uses (see h5.h for the contract).
#include "h5.h"

#include <string>
#include <vector>

namespace phasesweep::storage::detail {
namespace {

herr_t CollectError(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  std::string line = err->desc ? err->desc : "";
  if (line.empty() && err->func_name) line = err->func_name;
  if (!line.empty() && (out->empty() || out->back() != line)) out->push_back(line);
  return 0;
}

[[noreturn]] void Fail(const std::string& call, const std::string& what) {
  std::string text = TakeErrorText();
  std::string message = call + " failed";
  if (!what.empty()) message += " for '" + what + "'";
  if (!text.empty()) message += ": " + text;
  Throw(Status::IOError(message));
}

hid_t CheckId(hid_t id, const char* call, const std::string& what) {
  if (id < 0) Fail(call, what);
  return id;
}

void CheckErr(herr_t err, const char* call, const std::string& what) {
  if (err < 0) Fail(call, what);
}

}  // namespace

void SilenceAutoPrint() {
  // Per thread in a thread-safe HDF5 build, process-wide otherwise; cheap either way.
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
}

std::string TakeErrorText() {
  std::vector<std::string> lines;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, CollectError, &lines);
  H5Eclear2(H5E_DEFAULT);
  if (lines.empty()) return "";
  // The outermost line says what failed; the innermost usually says why (errno text,
  // "truncated file: eof = ..."). A failed system call is reduced to its error message; HDF5's
  // time stamp, buffer address and byte counts help nobody.
  std::string text = lines.front();
  const std::string& inner = lines.back();
  const size_t em = inner.find("error message = '");
  if (em != std::string::npos) {
    const size_t start = em + 17;
    const size_t end = inner.find('\'', start);
    std::string why = inner.substr(start, end == std::string::npos ? end : end - start);
    if (inner.find("errno = 28,") != std::string::npos) why += " (disk full)";
    if (inner.find("errno = 27,") != std::string::npos) why += " (file size limit)";
    if (inner.find("errno = 122,") != std::string::npos) why += " (quota exceeded)";
    std::string op = inner.substr(0, inner.find(':'));
    text += ": " + why + " [HDF5: " + op + "]";
  } else if (lines.size() > 1) {
    text += " (" + inner + ")";
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

void Handle::Reset() noexcept {
  if (id_ >= 0 && closer_ != nullptr) {
    if (closer_(id_) < 0) H5Eclear2(H5E_DEFAULT);
  }
  id_ = -1;
}

void Handle::CloseChecked(const std::string& what) {
  if (id_ < 0) return;
  hid_t id = id_;
  id_ = -1;
  if (closer_(id) < 0) Fail("closing (flushing)", what);
}

Handle FileAccessProps() {
  SilenceAutoPrint();
  Handle p(CheckId(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate", "fapl"), H5Pclose);
  CheckErr(H5Pset_fapl_sec2(p.get()), "H5Pset_fapl_sec2", "");
  // 1.10 object formats: single-chunk dataset indexes and compact link storage keep 10,000
  // small jobs small; files stay readable by HDF5 >= 1.10 (h5py 3, netCDF 4.6+).
  CheckErr(H5Pset_libver_bounds(p.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), "H5Pset_libver_bounds",
           "");
  // Writers never modify a file a reader can have open (results files are replaced by rename,
  // shards are private until renamed), so HDF5's flock() adds nothing for us and fails on some
  // shared file systems. Our own lock file serialises writers (lock_file.h).
#if H5_VERSION_GE(1, 10, 7)
  CheckErr(H5Pset_file_locking(p.get(), 0, 1), "H5Pset_file_locking", "");
#endif
  return p;
}

Handle FileCreateProps() {
  SilenceAutoPrint();
  Handle p(CheckId(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate", "fcpl"), H5Pclose);
  // The root group's ~12 provenance attributes stay compact too (see GroupCreate).
  CheckErr(H5Pset_attr_phase_change(p.get(), 32, 24), "H5Pset_attr_phase_change", "/");
  return p;
}

Handle LinkCreateProps() {
  SilenceAutoPrint();
  Handle p(CheckId(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate", "lcpl"), H5Pclose);
  CheckErr(H5Pset_create_intermediate_group(p.get(), 1), "H5Pset_create_intermediate_group", "");
  CheckErr(H5Pset_char_encoding(p.get(), H5T_CSET_UTF8), "H5Pset_char_encoding", "");
  return p;
}

Handle FileCreate(const std::string& path) {
  Handle fcpl = FileCreateProps();
  Handle fapl = FileAccessProps();
  return Handle(
      CheckId(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl.get()), "H5Fcreate", path),
      H5Fclose);
}

Handle FileOpen(const std::string& path, bool writable) {
  Handle fapl = FileAccessProps();
  return Handle(CheckId(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()),
                        "H5Fopen", path),
                H5Fclose);
}

void FileFlush(hid_t file) { CheckErr(H5Fflush(file, H5F_SCOPE_LOCAL), "H5Fflush", ""); }

namespace {
// Property lists every object creation uses, built once per thread and never closed (HDF5 frees
// them at exit): creating them per object was a measurable share of writing a job.
hid_t CachedLinkCreateProps() {
  thread_local hid_t lcpl = [] {
    Handle p = LinkCreateProps();
    hid_t id = p.get();
    H5Iinc_ref(id);  // keep it past the Handle
    return id;
  }();
  return lcpl;
}

hid_t CachedGroupCreateProps() {
  thread_local hid_t gcpl = [] {
    hid_t p = CheckId(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate", "gcpl");
    // Attributes stay in the object header ("compact") up to 32: smaller and faster to read for
    // our ~10 job attributes than HDF5's dense attribute storage.
    CheckErr(H5Pset_attr_phase_change(p, 32, 24), "H5Pset_attr_phase_change", "");
    return p;
  }();
  return gcpl;
}
}  // namespace

Handle GroupCreate(hid_t loc, const std::string& name) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Gcreate2(loc, name.c_str(), CachedLinkCreateProps(),
                                   CachedGroupCreateProps(), H5P_DEFAULT),
                        "H5Gcreate2", name),
                H5Gclose);
}

Handle GroupOpen(hid_t loc, const std::string& name) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "H5Gopen2", name), H5Gclose);
}

bool LinkExists(hid_t loc, const std::string& name) {
  SilenceAutoPrint();
  htri_t r = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
  if (r < 0) Fail("H5Lexists", name);
  return r > 0;
}

void LinkDelete(hid_t loc, const std::string& name) {
  SilenceAutoPrint();
  CheckErr(H5Ldelete(loc, name.c_str(), H5P_DEFAULT), "H5Ldelete", name);
}

namespace {
herr_t CollectLink(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> ListLinks(hid_t group) {
  SilenceAutoPrint();
  std::vector<std::string> names;
  hsize_t idx = 0;
  CheckErr(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, CollectLink, &names), "H5Literate",
           "");
  return names;
}

Handle VarStringType() {
  SilenceAutoPrint();
  Handle t(CheckId(H5Tcopy(H5T_C_S1), "H5Tcopy", "string"), H5Tclose);
  CheckErr(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size", "string");
  CheckErr(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset", "string");
  return t;
}

Handle FixedStringType(size_t size) {
  SilenceAutoPrint();
  Handle t(CheckId(H5Tcopy(H5T_C_S1), "H5Tcopy", "string"), H5Tclose);
  CheckErr(H5Tset_size(t.get(), size), "H5Tset_size", "string");
  CheckErr(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "H5Tset_strpad", "string");
  return t;
}

bool IsVariableString(hid_t type) {
  htri_t r = H5Tis_variable_str(type);
  if (r < 0) Fail("H5Tis_variable_str", "");
  return r > 0;
}

size_t TypeSize(hid_t type) {
  size_t s = H5Tget_size(type);
  if (s == 0) Fail("H5Tget_size", "");
  return s;
}

H5T_class_t TypeClass(hid_t type) {
  H5T_class_t c = H5Tget_class(type);
  if (c == H5T_NO_CLASS) Fail("H5Tget_class", "");
  return c;
}

Handle ScalarSpace() {
  SilenceAutoPrint();
  return Handle(CheckId(H5Screate(H5S_SCALAR), "H5Screate", "scalar"), H5Sclose);
}

Handle SimpleSpace(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                         maxdims.empty() ? nullptr : maxdims.data()),
                        "H5Screate_simple", ""),
                H5Sclose);
}

std::vector<hsize_t> SpaceDims(hid_t space) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) Fail("H5Sget_simple_extent_ndims", "");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) {
    Fail("H5Sget_simple_extent_dims", "");
  }
  return dims;
}

void SelectRange(hid_t space, hsize_t start, hsize_t count) {
  CheckErr(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr),
           "H5Sselect_hyperslab", "");
}

Handle DatasetCreate(hid_t loc, const std::string& name, hid_t type, hid_t space,
                     const std::vector<hsize_t>& chunk, int deflate) {
  SilenceAutoPrint();
  Handle dcpl(CheckId(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate", "dcpl"), H5Pclose);
  if (!chunk.empty()) {
    CheckErr(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk",
             name);
    if (deflate >= 0) {
      CheckErr(H5Pset_shuffle(dcpl.get()), "H5Pset_shuffle", name);
      CheckErr(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)), "H5Pset_deflate", name);
    }
  }
  // Never write fill values: every element we create is written right away. (HDF5 requires
  // them for variable-length types.)
  if (!IsVariableString(type)) {
    CheckErr(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time", name);
  }
  Handle lcpl = LinkCreateProps();
  return Handle(
      CheckId(H5Dcreate2(loc, name.c_str(), type, space, lcpl.get(), dcpl.get(), H5P_DEFAULT),
              "H5Dcreate2", name),
      H5Dclose);
}

Handle DatasetOpen(hid_t loc, const std::string& name) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "H5Dopen2", name), H5Dclose);
}

Handle DatasetCreateLike(hid_t loc, const std::string& name, hid_t type, hid_t space, hid_t dcpl) {
  SilenceAutoPrint();
  Handle lcpl = LinkCreateProps();
  return Handle(CheckId(H5Dcreate2(loc, name.c_str(), type, space, lcpl.get(), dcpl, H5P_DEFAULT),
                        "H5Dcreate2", name),
                H5Dclose);
}

Handle DatasetCreatePlist(hid_t dset) {
  return Handle(CheckId(H5Dget_create_plist(dset), "H5Dget_create_plist", ""), H5Pclose);
}

bool IsChunked(hid_t dcpl) {
  H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout < 0) Fail("H5Pget_layout", "");
  return layout == H5D_CHUNKED;
}

hsize_t NumChunks(hid_t dset) {
  hsize_t n = 0;
  Handle space = DatasetSpace(dset);  // 1.10 rejects H5S_ALL here
  CheckErr(H5Dget_num_chunks(dset, space.get(), &n), "H5Dget_num_chunks", "");
  return n;
}

void ChunkInfo(hid_t dset, hsize_t index, std::vector<hsize_t>* offset, unsigned* filter_mask,
               hsize_t* size) {
  Handle space = DatasetSpace(dset);
  offset->assign(SpaceDims(space.get()).size(), 0);
  haddr_t addr = 0;
  CheckErr(H5Dget_chunk_info(dset, space.get(), index, offset->data(), filter_mask, &addr, size),
           "H5Dget_chunk_info", "");
}

void ReadChunk(hid_t dset, const std::vector<hsize_t>& offset, uint32_t* filters, void* buf) {
  CheckErr(H5Dread_chunk(dset, H5P_DEFAULT, offset.data(), filters, buf), "H5Dread_chunk", "");
}

void WriteChunk(hid_t dset, uint32_t filters, const std::vector<hsize_t>& offset, size_t size,
                const void* buf) {
  CheckErr(H5Dwrite_chunk(dset, H5P_DEFAULT, filters, offset.data(), size, buf), "H5Dwrite_chunk",
           "");
}

Handle NativeTypeOf(hid_t type) {
  return Handle(CheckId(H5Tget_native_type(type, H5T_DIR_ASCEND), "H5Tget_native_type", ""),
                H5Tclose);
}

hssize_t SpacePoints(hid_t space) {
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) Fail("H5Sget_simple_extent_npoints", "");
  return n;
}

Handle DatasetSpace(hid_t dset) {
  return Handle(CheckId(H5Dget_space(dset), "H5Dget_space", ""), H5Sclose);
}

Handle DatasetType(hid_t dset) {
  return Handle(CheckId(H5Dget_type(dset), "H5Dget_type", ""), H5Tclose);
}

void DatasetWrite(hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, const void* buf) {
  CheckErr(H5Dwrite(dset, mem_type, mem_space, file_space, H5P_DEFAULT, buf), "H5Dwrite", "");
}

void DatasetRead(hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, void* buf) {
  CheckErr(H5Dread(dset, mem_type, mem_space, file_space, H5P_DEFAULT, buf), "H5Dread", "");
}

void DatasetSetExtent(hid_t dset, const std::vector<hsize_t>& dims) {
  CheckErr(H5Dset_extent(dset, dims.data()), "H5Dset_extent", "");
}

void ReclaimVarStrings(hid_t mem_type, hid_t space, void* buf) {
#if H5_VERSION_GE(1, 12, 0)
  CheckErr(H5Treclaim(mem_type, space, H5P_DEFAULT, buf), "H5Treclaim", "");
#else
  CheckErr(H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buf), "H5Dvlen_reclaim", "");
#endif
}

bool AttrExists(hid_t obj, const std::string& name) {
  SilenceAutoPrint();
  htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) Fail("H5Aexists", name);
  return r > 0;
}

Handle AttrCreate(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                        "H5Acreate2", name),
                H5Aclose);
}

Handle AttrOpen(hid_t obj, const std::string& name) {
  SilenceAutoPrint();
  return Handle(CheckId(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "H5Aopen", name), H5Aclose);
}

Handle AttrType(hid_t attr) {
  return Handle(CheckId(H5Aget_type(attr), "H5Aget_type", ""), H5Tclose);
}

Handle AttrSpace(hid_t attr) {
  return Handle(CheckId(H5Aget_space(attr), "H5Aget_space", ""), H5Sclose);
}

void AttrWrite(hid_t attr, hid_t mem_type, const void* buf) {
  CheckErr(H5Awrite(attr, mem_type, buf), "H5Awrite", "");
}

void AttrRead(hid_t attr, hid_t mem_type, void* buf) {
  CheckErr(H5Aread(attr, mem_type, buf), "H5Aread", "");
}

void AttrDelete(hid_t obj, const std::string& name) {
  CheckErr(H5Adelete(obj, name.c_str()), "H5Adelete", name);
}

namespace {
herr_t CollectAttr(hid_t /*obj*/, const char* name, const H5A_info_t* /*info*/, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> AttrNames(hid_t obj) {
  SilenceAutoPrint();
  std::vector<std::string> names;
  hsize_t idx = 0;
  CheckErr(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, CollectAttr, &names), "H5Aiterate2",
           "");
  return names;
}

}  // namespace phasesweep::storage::detail
