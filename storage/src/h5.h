// RAII over HDF5's C API for the storage library — the only place raw H5* calls live.
//
// Handle owns one hid_t, is move-only, and closes it in the destructor (errors there are
// swallowed: a destructor cannot report them). Closing a dataset or file flushes cached chunks
// and metadata, which is where a full disk shows up, so every write path ends with
// CloseChecked() on what it wrote.
//
// detail:: holds one thin checked wrapper per C call. A failing call throws StorageError whose
// Status carries the call name and HDF5's own error text as one line; the public API catches it
// at its boundary and returns the Status (see Guard in storage_error.h).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage_error.h"

namespace phasesweep::storage::detail {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { Reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      Reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes, ignoring errors (the no-throw variant used by the destructor).
  void Reset() noexcept;
  // Closes and throws StorageError (IOError) if HDF5 reports a failure, e.g. the final flush of a
  // file on a full disk. `what` names the object for the message.
  void CloseChecked(const std::string& what);

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// HDF5's current error stack as one line ("outermost; ...; innermost"), then clears it.
std::string TakeErrorText();
// Turns off HDF5's automatic printing of error stacks for this thread (we report them ourselves).
void SilenceAutoPrint();

// Property lists.
Handle FileAccessProps();  // sec2 driver, latest format >= 1.10, no HDF5 file locking (see .cc)
Handle FileCreateProps();
Handle LinkCreateProps();  // creates intermediate groups, UTF-8 names

// Files.
Handle FileCreate(const std::string& path);  // H5F_ACC_EXCL: never truncates an existing file
Handle FileOpen(const std::string& path, bool writable);
void FileFlush(hid_t file);

// Groups and links.
Handle GroupCreate(hid_t loc, const std::string& name);
Handle GroupOpen(hid_t loc, const std::string& name);
bool LinkExists(hid_t loc, const std::string& name);  // name has no '/'
void LinkDelete(hid_t loc, const std::string& name);
std::vector<std::string> ListLinks(hid_t group);  // sorted by name

// Types.
Handle VarStringType();               // variable-length UTF-8
Handle FixedStringType(size_t size);  // null-padded ASCII of `size` bytes
bool IsVariableString(hid_t type);
size_t TypeSize(hid_t type);
H5T_class_t TypeClass(hid_t type);

// Dataspaces.
Handle ScalarSpace();
Handle SimpleSpace(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims = {});
std::vector<hsize_t> SpaceDims(hid_t space);
void SelectRange(hid_t space, hsize_t start, hsize_t count);  // 1-D hyperslab

// Datasets. `chunk` empty means contiguous layout; `deflate` >= 0 adds shuffle + deflate.
// (H5Ocopy is deliberately not wrapped: HDF5 1.10's crashes copying variable-length string
// attributes and on write errors inside a copy; copy.h copies job groups itself.)
Handle DatasetCreate(hid_t loc, const std::string& name, hid_t type, hid_t space,
                     const std::vector<hsize_t>& chunk, int deflate);
Handle DatasetOpen(hid_t loc, const std::string& name);
// Creates a dataset with another dataset's creation properties (chunking, filters).
Handle DatasetCreateLike(hid_t loc, const std::string& name, hid_t type, hid_t space, hid_t dcpl);
Handle DatasetCreatePlist(hid_t dset);
bool IsChunked(hid_t dcpl);
// Raw (still compressed) chunk access, for copying without re-compressing.
hsize_t NumChunks(hid_t dset);
// Offset, filter mask and stored size of chunk `index`.
void ChunkInfo(hid_t dset, hsize_t index, std::vector<hsize_t>* offset, unsigned* filter_mask,
               hsize_t* size);
void ReadChunk(hid_t dset, const std::vector<hsize_t>& offset, uint32_t* filters, void* buf);
void WriteChunk(hid_t dset, uint32_t filters, const std::vector<hsize_t>& offset, size_t size,
                const void* buf);
// The native (in-memory) equivalent of a stored numeric type.
Handle NativeTypeOf(hid_t type);
hssize_t SpacePoints(hid_t space);
Handle DatasetSpace(hid_t dset);
Handle DatasetType(hid_t dset);
void DatasetWrite(hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, const void* buf);
void DatasetRead(hid_t dset, hid_t mem_type, hid_t mem_space, hid_t file_space, void* buf);
void DatasetSetExtent(hid_t dset, const std::vector<hsize_t>& dims);
// Frees the variable-length buffers an H5Dread of VarStringType() allocated.
void ReclaimVarStrings(hid_t mem_type, hid_t space, void* buf);

// Attributes.
bool AttrExists(hid_t obj, const std::string& name);
Handle AttrCreate(hid_t obj, const std::string& name, hid_t type, hid_t space);
Handle AttrOpen(hid_t obj, const std::string& name);
Handle AttrType(hid_t attr);
Handle AttrSpace(hid_t attr);
void AttrWrite(hid_t attr, hid_t mem_type, const void* buf);
void AttrRead(hid_t attr, hid_t mem_type, void* buf);
void AttrDelete(hid_t obj, const std::string& name);
std::vector<std::string> AttrNames(hid_t obj);  // in creation/name order

}  // namespace phasesweep::storage::detail
