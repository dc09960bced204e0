/*
 * What the writer and the reader both know about each section kind: its name,
 * record size and rules, from the one list in image_sections.def.
 *
 * Internal to the image code (image_writer.c, image_reader.c) and cr_info.
 * Allocation-free and without stdio: the writer uses it inside the process
 * being checkpointed.
 */
#ifndef REVIVE_CRS_IMAGE_SECTIONS_H
#define REVIVE_CRS_IMAGE_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "crs/base/image_format.h"

/* RULES of a section kind (image_sections.def) */
#define CRS_SECF_REQUIRED 0x1u /* every image holds it */
#define CRS_SECF_FINISH 0x2u   /* written by crs_iw_finish, never by crs_iw_section */
#define CRS_SECF_PAIRS 0x4u    /* records of one word or of one (type, value) pair of
                                * words; the section holds whole pairs (AUXV) */
#define CRS_SECF_REPEAT 0x8u   /* may appear more than once, each section one record of
                                * its own size (EXT; written by crs_iw_extension) */
#define CRS_SECF_BULK 0x10u    /* bytes that may be large (FDATA): written in pieces
                                * (crs_iw_stream_*), left on disk by the reader, which checks
                                * them piece by piece as they are read (and the section's
                                * checksum in crs_image_verify_chunks) */

struct crs_section_kind {
    uint32_t type;        /* enum crs_section_type; 0 in the unused slots */
    uint32_t since;       /* format version that introduced it */
    uint32_t record_size; /* sizeof one record */
    uint32_t count;       /* exact number of records, 0 for any */
    uint32_t flags;       /* CRS_SECF_* */
    const char *name;     /* "PROCESS" */
};

/* The kind of section `type`, or NULL for a type this Revive does not know. */
static inline const struct crs_section_kind *crs_section_kind(uint32_t type)
{
    static const struct crs_section_kind kinds[CRS_SEC__MAX] = {
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
    [CRS_SEC_##ID] = { CRS_SEC_##ID, SINCE, sizeof(RECORD), N, RULES, #ID },
#include "crs/base/image_sections.def"
#undef CRS_SECTION
    };
    return type < CRS_SEC__MAX && kinds[type].type ? &kinds[type] : NULL;
}

/* The name of section `type` for messages; "unknown" if there is none. */
static inline const char *crs_section_name(uint32_t type)
{
    const struct crs_section_kind *k = crs_section_kind(type);
    return k ? k->name : "unknown";
}

/* What is wrong with a section's shape, if anything. */
enum crs_section_shape {
    CRS_SHAPE_OK = 0,
    CRS_SHAPE_RECORD_SIZE, /* record_size is not the kind's (or not a multiple of the size) */
    CRS_SHAPE_COUNT,       /* not the exact number of records the kind holds */
    CRS_SHAPE_PAIRS,       /* an odd number of words where pairs are required */
};

/* Checks a section of kind `k` with records of `record_size` bytes and `size`
 * bytes in all against the kind's rules. */
static inline enum crs_section_shape crs_section_shape(const struct crs_section_kind *k,
                                                       uint64_t record_size, uint64_t size)
{
    int size_ok = record_size == k->record_size ||
                  ((k->flags & CRS_SECF_PAIRS) && record_size == 2 * (uint64_t)k->record_size);
    if (!size_ok || size % record_size)
        return CRS_SHAPE_RECORD_SIZE;
    if (k->count && size / record_size != k->count)
        return CRS_SHAPE_COUNT;
    if ((k->flags & CRS_SECF_PAIRS) && size % (2 * (uint64_t)k->record_size))
        return CRS_SHAPE_PAIRS;
    return CRS_SHAPE_OK;
}

#endif
