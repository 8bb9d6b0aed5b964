// Job-group copy with raw chunk transfer (see copy.h).
#include "copy.h"

#include <cstdint>
#include <string>
#include <vector>

#include "h5_io.h"

namespace phasesweep::storage::detail {
namespace {

void CopyAttributes(hid_t src, hid_t dst) {
  for (const std::string& name : AttrNames(src)) {
    Handle attr = AttrOpen(src, name);
    Handle type = AttrType(attr.get());
    if (TypeClass(type.get()) == H5T_STRING) {
      WriteStringAttr(dst, name, ReadStringAttr(src, name));
      continue;
    }
    Handle space = AttrSpace(attr.get());
    Handle mem = NativeTypeOf(type.get());
    std::vector<unsigned char> buf(TypeSize(mem.get()) *
                                   static_cast<size_t>(SpacePoints(space.get())));
    AttrRead(attr.get(), mem.get(), buf.data());
    Handle out = AttrCreate(dst, name, type.get(), space.get());
    AttrWrite(out.get(), mem.get(), buf.data());
  }
}

void CopyDataset(hid_t src_loc, hid_t dst_loc, const std::string& name) {
  Handle src = DatasetOpen(src_loc, name);
  Handle type = DatasetType(src.get());
  Handle space = DatasetSpace(src.get());
  Handle dcpl = DatasetCreatePlist(src.get());
  Handle dst = DatasetCreateLike(dst_loc, name, type.get(), space.get(), dcpl.get());
  if (SpacePoints(space.get()) == 0) return;
  if (IsChunked(dcpl.get())) {
    std::vector<hsize_t> offset;
    std::vector<unsigned char> buf;
    const hsize_t n = NumChunks(src.get());
    for (hsize_t i = 0; i < n; ++i) {
      unsigned mask = 0;
      hsize_t size = 0;
      ChunkInfo(src.get(), i, &offset, &mask, &size);
      buf.resize(size);
      uint32_t filters = 0;
      ReadChunk(src.get(), offset, &filters, buf.data());
      WriteChunk(dst.get(), filters, offset, buf.size(), buf.data());
    }
    dst.CloseChecked(name);
    return;
  }
  if (TypeClass(type.get()) == H5T_STRING) Throw(Status::Internal("contiguous string dataset"));
  Handle mem = NativeTypeOf(type.get());
  std::vector<unsigned char> buf(TypeSize(mem.get()) *
                                 static_cast<size_t>(SpacePoints(space.get())));
  DatasetRead(src.get(), mem.get(), H5S_ALL, H5S_ALL, buf.data());
  DatasetWrite(dst.get(), mem.get(), H5S_ALL, H5S_ALL, buf.data());
  dst.CloseChecked(name);
}

}  // namespace

void CopyJob(hid_t src_jobs, hid_t dst_jobs, const std::string& job_id) {
  Handle src = GroupOpen(src_jobs, job_id);
  Handle dst = GroupCreate(dst_jobs, job_id);
  CopyAttributes(src.get(), dst.get());
  for (const std::string& link : ListLinks(src.get())) {
    if (link != "snapshots") {
      CopyDataset(src.get(), dst.get(), link);
      continue;
    }
    Handle src_snap = GroupOpen(src.get(), link);
    Handle dst_snap = GroupCreate(dst.get(), link);
    for (const std::string& name : ListLinks(src_snap.get())) {
      CopyDataset(src_snap.get(), dst_snap.get(), name);
    }
  }
}

}  // namespace phasesweep::storage::detail
