/* MPI-IO under Revive: the entry points that keep a file's state (objs.h) beside its virtual
 * handle. Every other MPI_File_* call is generated from mpi_iface.def (a handle translation and
 * the lower half's own call: the data moves at the library's speed).
 *
 * Kept per file: the communicator, path and access mode it was opened with, the hints given,
 * the view (with references to its datatypes), its error handler (referenced: a restart sets it
 * again; MPI_File_set_errhandler's entry point is generated, @fileeh), a split collective under
 * way; MPI_File_get_info's object is recorded as its contents. A snapshot reads the file
 * pointers, the atomicity and the file's identity; a restart opens the file again and sets it up
 * as it was (the data itself stays in the file, as BLCR did for open files). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct pml_file *pml_files;
static struct pml_file *files_tail;

static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s);
    if (!p)
        pml_fatal("out of memory for the state of an MPI file or window");
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        pml_fatal("out of memory for the state of an MPI file or window");
    return d;
}

/* ---- hints ---------------------------------------------------------------------------------- */
static void hints_set(struct pml_hints *h, const char *key, const char *val)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->kv[i].key, key)) {
            free(h->kv[i].val);
            h->kv[i].val = xstrdup(val);
            return;
        }
    if (h->n == h->cap) {
        int c = h->cap ? h->cap * 2 : 8;
        struct pml_kvpair *kv = realloc(h->kv, (size_t)c * sizeof *kv);
        if (!kv)
            pml_fatal("out of memory for file hints");
        h->kv = kv;
        h->cap = c;
    }
    h->kv[h->n].key = xstrdup(key);
    h->kv[h->n].val = xstrdup(val);
    h->n++;
}

void pml_hints_add(struct pml_hints *h, uintptr_t real_info)
{
    if (real_info == pml_v2r(PML_H(MPI_INFO_NULL)))
        return;
    int n = 0;
    if (pml_L.MPI_Info_get_nkeys((MPI_Info)real_info, &n) != MPI_SUCCESS)
        return;
    for (int i = 0; i < n; i++) {
        char key[MPI_MAX_INFO_KEY + 1];
        int len = 0, flag = 0;
        if (pml_L.MPI_Info_get_nthkey((MPI_Info)real_info, i, key) != MPI_SUCCESS ||
            pml_L.MPI_Info_get_valuelen((MPI_Info)real_info, key, &len, &flag) != MPI_SUCCESS ||
            !flag)
            continue;
        char *val = xcalloc((size_t)len + 1, 1);
        if (pml_L.MPI_Info_get((MPI_Info)real_info, key, len + 1, val, &flag) == MPI_SUCCESS && flag)
            hints_set(h, key, val);
        free(val);
    }
}

void pml_hints_free(struct pml_hints *h)
{
    for (int i = 0; i < h->n; i++) {
        free(h->kv[i].key);
        free(h->kv[i].val);
    }
    free(h->kv);
    memset(h, 0, sizeof *h);
}

uintptr_t pml_hints_info(const struct pml_hints *h)
{
    MPI_Info info = (MPI_Info)pml_v2r(PML_H(MPI_INFO_NULL));
    if (!h->n || pml_L.MPI_Info_create(&info) != MPI_SUCCESS)
        return PML_H(info);
    for (int i = 0; i < h->n; i++)
        pml_L.MPI_Info_set(info, h->kv[i].key, h->kv[i].val);
    return PML_H(info);
}

void pml_hints_info_free(uintptr_t real_info)
{
    MPI_Info info = (MPI_Info)real_info;
    if (real_info != pml_v2r(PML_H(MPI_INFO_NULL)))
        pml_L.MPI_Info_free(&info);
}

/* ---- where a file is --------------------------------------------------------------------- */
/* ROMIO's file system prefixes ("ufs:/path"); any other colon belongs to the name. */
static const char *strip_prefix(const char *name)
{
    static const char *const fs[] = { "ufs", "nfs", "lustre", "pvfs2", "gpfs", "xfs", "panfs",
                                      "testfs", "daos", "ime", "quobytefs", "gridftp", "piofs",
                                      "pvfs", "hfs", "sfs", "bg", "bgl", "zoidfs", NULL };
    const char *c = strchr(name, ':');
    if (!c)
        return name;
    for (int i = 0; fs[i]; i++)
        if ((size_t)(c - name) == strlen(fs[i]) && !strncmp(name, fs[i], (size_t)(c - name)))
            return c + 1;
    return name;
}

static char *absolute(const char *name)
{
    const char *p = strip_prefix(name);
    char buf[PATH_MAX];
    if (realpath(p, buf))
        return xstrdup(buf);
    if (p[0] == '/' || !getcwd(buf, sizeof buf))
        return xstrdup(p);
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, "/%s", p);
    return xstrdup(buf);
}

/* ---- open and close ------------------------------------------------------------------------ */
static void file_link(struct pml_file *f)
{
    pml_vh_lock();
    f->prev = files_tail;
    f->next = NULL;
    if (files_tail)
        files_tail->next = f;
    else
        pml_files = f;
    files_tail = f;
    pml_vh_unlock();
}

static void file_unlink(struct pml_file *f)
{
    pml_vh_lock();
    if (f->prev)
        f->prev->next = f->next;
    else
        pml_files = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        files_tail = f->prev;
    pml_vh_unlock();
}

void pml_file_view_release(struct pml_file *f)
{
    if (f->view_set) {
        pml_vh_unref(f->etype);
        pml_vh_unref(f->filetype);
    }
    f->view_set = 0;
    f->etype = f->filetype = 0;
    pml_hints_free(&f->view_hints);
}

/* MPI_FILE_NULL's error handler as the program set it (referenced; 0: never set): a file
 * opened later starts with it */
static uintptr_t default_eh;

void pml_file_eh_set(uintptr_t vfile, uintptr_t veh)
{
    struct pml_file *f = pml_file_of(vfile);
    uintptr_t *slot = f ? &f->errh : vfile == PML_H(MPI_FILE_NULL) ? &default_eh : NULL;
    if (!slot)
        return;
    pml_vh_ref(veh);
    if (*slot)
        pml_vh_unref(*slot);
    *slot = veh;
}

static void file_free(struct pml_file *f)
{
    pml_file_view_release(f);
    if (f->errh)
        pml_vh_unref(f->errh);
    pml_hints_free(&f->open_hints);
    pml_dupattr_free(&f->dup);
    free(f->kept);
    free(f->path);
    free(f->abspath);
    free(f);
}

int MPI_File_open(MPI_Comm comm, const char *filename, int amode, MPI_Info info, MPI_File *fh)
{
    if (!pml_L.MPI_File_open)
        return pml_not_ready("MPI_File_open");
    /* a collective on comm: counted there; the file's own collectives get a clock of their own */
    PML_COLL_ENTER(PML_FID_MPI_File_open, comm, 1);
    MPI_Comm rc_comm = (MPI_Comm)pml_v2r(PML_H(comm));
    MPI_Info rinfo = (MPI_Info)pml_v2r(PML_H(info));
    MPI_File r = (MPI_File)pml_v2r(PML_H(MPI_FILE_NULL));
    struct pml_dup_attrs da = {0};
    pml_dupattr_record(&da); /* the library's duplicate of comm gets its attributes */
    int rc = pml_L.MPI_File_open(rc_comm, filename, amode, rinfo, &r);
    pml_dupattr_record(NULL);
    if (rc != MPI_SUCCESS)
        pml_dupattr_free(&da);
    if (rc == MPI_SUCCESS) {
        uintptr_t v = pml_new(PML_FILE, PML_H(r));
        *fh = (MPI_File)v;
        struct pml_file *f = xcalloc(1, sizeof *f);
        f->v = v;
        f->dup = da;
        f->vcomm = PML_H(comm);
        pml_L.MPI_Comm_size(rc_comm, &f->comm_size);
        pml_L.MPI_Comm_rank(rc_comm, &f->comm_rank);
        f->clock = pml_obj_clock_new(c_, f->comm_size, f->comm_rank, 'F');
        f->path = xstrdup(filename);
        f->abspath = absolute(filename);
        f->amode = amode;
        pml_hints_add(&f->open_hints, PML_H(rinfo));
        snprintf(f->datarep, sizeof f->datarep, "native");
        if (default_eh) {
            pml_vh_ref(default_eh);
            f->errh = default_eh;
        }
        struct pml_vh *h = pml_vh_of(v);
        if (h)
            h->info = f;
        file_link(f);
        struct pml_rec *R = pml_rec_open(PML_FID_MPI_File_open);
        pml_rec_handle(R, PML_H(comm));
        pml_rec_str(R, filename);
        pml_rec_scalar(R, &amode, sizeof amode);
        pml_rec_handle(R, PML_H(info));
        pml_rec_out(R, v);
        pml_rec_close(R);
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_File_open(MPI_Comm, const char *, int, MPI_Info, MPI_File *) __attribute__((alias("pml_own_MPI_File_open")));

int MPI_File_close(MPI_File *fh)
{
    if (!pml_L.MPI_File_close)
        return pml_not_ready("MPI_File_close");
    uintptr_t v = PML_H(*fh);
    struct pml_file *f = pml_file_of(v);
    PML_COLL_ENTER_C(PML_FID_MPI_File_close, f ? f->clock : NULL, 1);
    /* the real handle past the entry, where a snapshot parks the thread: one read before it was
     * the dead lower half's after a restart (campaign-failures.md #28) */
    MPI_File r = (MPI_File)pml_v2r(v);
    int rc = pml_L.MPI_File_close(&r);
    if (rc == MPI_SUCCESS) {
        if (f) {
            file_unlink(f);
            pml_vh_of(v)->info = NULL;
            pml_comm_freed(f->clock);
            file_free(f);
        }
        pml_vh_release(v);
        *fh = (MPI_File)pml_r2v_predef(PML_H(r));
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_File_close(MPI_File *) __attribute__((alias("pml_own_MPI_File_close")));

/* ---- views and hints -------------------------------------------------------------------------- */
int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype etype, MPI_Datatype filetype,
                      const char *datarep, MPI_Info info)
{
    if (!pml_L.MPI_File_set_view)
        return pml_not_ready("MPI_File_set_view");
    struct pml_file *f = pml_file_of(PML_H(fh));
    PML_COLL_ENTER_C(PML_FID_MPI_File_set_view, f ? f->clock : NULL, 1);
    MPI_Info rinfo = (MPI_Info)pml_v2r(PML_H(info)); /* past the entry (as in MPI_File_close) */
    int rc = pml_L.MPI_File_set_view((MPI_File)pml_v2r(PML_H(fh)), disp,
                                     (MPI_Datatype)pml_v2r(PML_H(etype)),
                                     (MPI_Datatype)pml_v2r(PML_H(filetype)), datarep, rinfo);
    if (rc == MPI_SUCCESS && f) {
        pml_vh_ref(PML_H(etype));
        pml_vh_ref(PML_H(filetype));
        pml_file_view_release(f);
        f->view_set = 1;
        f->disp = disp;
        f->etype = PML_H(etype);
        f->filetype = PML_H(filetype);
        snprintf(f->datarep, sizeof f->datarep, "%s", datarep ? datarep : "native");
        pml_hints_add(&f->view_hints, PML_H(rinfo));
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_File_set_view(MPI_File, MPI_Offset, MPI_Datatype, MPI_Datatype, const char *, MPI_Info)
    __attribute__((alias("pml_own_MPI_File_set_view")));

int MPI_File_get_view(MPI_File fh, MPI_Offset *disp, MPI_Datatype *etype, MPI_Datatype *filetype,
                      char *datarep)
{
    if (!pml_L.MPI_File_get_view)
        return pml_not_ready("MPI_File_get_view");
    PML_GATE_ENTER(PML_FID_MPI_File_get_view);
    MPI_Datatype re = (MPI_Datatype)pml_v2r(PML_H(MPI_DATATYPE_NULL)), rf = re;
    int rc = pml_L.MPI_File_get_view((MPI_File)pml_v2r(PML_H(fh)), disp, &re, &rf, datarep);
    struct pml_file *f = pml_file_of(PML_H(fh));
    if (rc == MPI_SUCCESS) {
        /* made from the view's types (referenced by the file): layer.c, pml_type_handed_out */
        *etype = (MPI_Datatype)pml_type_handed_out(PML_H(re), PML_FID_MPI_File_get_view,
                                                   f && f->view_set ? f->etype : PML_H(MPI_BYTE), 0);
        *filetype = (MPI_Datatype)pml_type_handed_out(PML_H(rf), PML_FID_MPI_File_get_view,
                                                      f && f->view_set ? f->filetype : PML_H(MPI_BYTE), 1);
    }
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_File_get_view(MPI_File, MPI_Offset *, MPI_Datatype *, MPI_Datatype *, char *)
    __attribute__((alias("pml_own_MPI_File_get_view")));

int MPI_File_set_info(MPI_File fh, MPI_Info info)
{
    if (!pml_L.MPI_File_set_info)
        return pml_not_ready("MPI_File_set_info");
    struct pml_file *f = pml_file_of(PML_H(fh));
    PML_COLL_ENTER_C(PML_FID_MPI_File_set_info, f ? f->clock : NULL, 1);
    MPI_Info rinfo = (MPI_Info)pml_v2r(PML_H(info)); /* past the entry (as in MPI_File_close) */
    int rc = pml_L.MPI_File_set_info((MPI_File)pml_v2r(PML_H(fh)), rinfo);
    if (rc == MPI_SUCCESS && f)
        pml_hints_add(&f->open_hints, PML_H(rinfo));
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_File_set_info(MPI_File, MPI_Info) __attribute__((alias("pml_own_MPI_File_set_info")));

/* The hints in use, recorded as what the object holds (info_env.c), not as a call on the file:
 * a restart opens the file again only after the replay, and a program may keep the object
 * (PnetCDF keeps it until it closes the file; newuser8 F6: "MPI_File_open cannot be replayed") */
int MPI_File_get_info(MPI_File fh, MPI_Info *info_used)
{
    if (!pml_L.MPI_File_get_info)
        return pml_not_ready("MPI_File_get_info");
    PML_GATE_ENTER(PML_FID_MPI_File_get_info);
    MPI_Info r = (MPI_Info)pml_v2r(PML_H(MPI_INFO_NULL));
    int rc = pml_L.MPI_File_get_info((MPI_File)pml_v2r(PML_H(fh)), &r);
    if (rc == MPI_SUCCESS) {
        *info_used = (MPI_Info)pml_new(PML_INFO, PML_H(r));
        if (PML_H(*info_used) != PML_H(MPI_INFO_NULL))
            pml_info_record_contents(PML_H(*info_used), PML_H(r));
    }
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_File_get_info(MPI_File, MPI_Info *) __attribute__((alias("pml_own_MPI_File_get_info")));

/* ---- split collectives: the layer knows one is under way (a snapshot completes it) --------- */
#define SPLIT_BEGIN(NAME, KIND, PARAMS, ARGS)                                                  \
    int MPI_File_##NAME##_begin PARAMS                                                         \
    {                                                                                          \
        if (!pml_L.MPI_File_##NAME##_begin)                                                    \
            return pml_not_ready("MPI_File_" #NAME "_begin");                                  \
        struct pml_file *f = pml_file_of(PML_H(fh));                                           \
        PML_COLL_ENTER_C(PML_FID_MPI_File_##NAME##_begin, f ? f->clock : NULL, 1);             \
        int rc = pml_L.MPI_File_##NAME##_begin ARGS;                                           \
        if (rc == MPI_SUCCESS && f) {                                                          \
            f->split = KIND;                                                                   \
            f->split_buf = buf;                                                                \
        }                                                                                      \
        PML_COLL_LEAVE(1);                                                                     \
        return rc;                                                                             \
    }                                                                                          \
    int PMPI_File_##NAME##_begin PARAMS __attribute__((alias("pml_own_MPI_File_" #NAME "_begin")));
#define SPLIT_END(NAME, B)                                                                     \
    int MPI_File_##NAME##_end(MPI_File fh, B void *buf, MPI_Status *status)                    \
    {                                                                                          \
        if (!pml_L.MPI_File_##NAME##_end)                                                      \
            return pml_not_ready("MPI_File_" #NAME "_end");                                    \
        struct pml_file *f = pml_file_of(PML_H(fh));                                           \
        PML_COLL_ENTER_C(PML_FID_MPI_File_##NAME##_end, f ? f->clock : NULL, 1);               \
        int rc = pml_file_split_end(f, (MPI_File)pml_v2r(PML_H(fh)), buf, status,              \
                                    (int (*)(MPI_File, void *, MPI_Status *))                  \
                                        pml_L.MPI_File_##NAME##_end);                          \
        PML_COLL_LEAVE(1);                                                                     \
        return rc;                                                                             \
    }                                                                                          \
    int PMPI_File_##NAME##_end(MPI_File, B void *, MPI_Status *)                               \
        __attribute__((alias("pml_own_MPI_File_" #NAME "_end")));

/* The end of a split collective: the library's, unless a snapshot completed it already (the
 * status it got is kept for this call). */
static int pml_file_split_end(struct pml_file *f, MPI_File r, const void *buf, MPI_Status *status,
                              int (*end)(MPI_File, void *, MPI_Status *))
{
    int rc;
    if (f && f->split_done) {
        if (status && status != MPI_STATUS_IGNORE)
            *status = f->split_status;
        rc = f->split_status.MPI_ERROR == MPI_SUCCESS ? MPI_SUCCESS : f->split_status.MPI_ERROR;
        f->split_done = 0;
    } else {
        rc = end(r, (void *)buf, status);
    }
    if (rc == MPI_SUCCESS && f)
        f->split = 0;
    return rc;
}

#define RF(fh) (MPI_File)pml_v2r(PML_H(fh))
#define RT(t) (MPI_Datatype)pml_v2r(PML_H(t))
SPLIT_BEGIN(read_at_all, PML_FILE_SPLIT_READ_AT_ALL,
            (MPI_File fh, MPI_Offset offset, void *buf, int count, MPI_Datatype datatype),
            (RF(fh), offset, buf, count, RT(datatype)))
SPLIT_BEGIN(write_at_all, PML_FILE_SPLIT_WRITE_AT_ALL,
            (MPI_File fh, MPI_Offset offset, const void *buf, int count, MPI_Datatype datatype),
            (RF(fh), offset, buf, count, RT(datatype)))
SPLIT_BEGIN(read_all, PML_FILE_SPLIT_READ_ALL,
            (MPI_File fh, void *buf, int count, MPI_Datatype datatype),
            (RF(fh), buf, count, RT(datatype)))
SPLIT_BEGIN(write_all, PML_FILE_SPLIT_WRITE_ALL,
            (MPI_File fh, const void *buf, int count, MPI_Datatype datatype),
            (RF(fh), buf, count, RT(datatype)))
SPLIT_BEGIN(read_ordered, PML_FILE_SPLIT_READ_ORDERED,
            (MPI_File fh, void *buf, int count, MPI_Datatype datatype),
            (RF(fh), buf, count, RT(datatype)))
SPLIT_BEGIN(write_ordered, PML_FILE_SPLIT_WRITE_ORDERED,
            (MPI_File fh, const void *buf, int count, MPI_Datatype datatype),
            (RF(fh), buf, count, RT(datatype)))
SPLIT_END(read_at_all, )
SPLIT_END(write_at_all, const)
SPLIT_END(read_all, )
SPLIT_END(write_all, const)
SPLIT_END(read_ordered, )
SPLIT_END(write_ordered, const)

/* ---- user data representations ------------------------------------------------------------- */
/* The library calls the layer's functions with its own datatypes and, as extra state, the
 * registration; they call the program's with its datatype and extra state. A registration the
 * library accepted is recorded, but nothing registers it again at a restart: the replay has no
 * function for MPI_Register_datarep, so a record holding one is refused ("cannot be replayed",
 * replay.c) rather than restarted without the program's conversion functions. Open MPI 4.1 and
 * MPICH 4.0 refuse every registration natively (docs/mpi.md), so no record holds one today. */
struct pml_datarep {
    MPI_Datarep_conversion_function *read, *write;
    MPI_Datarep_extent_function *extent;
    void *extra;
    char name[MPI_MAX_DATAREP_STRING + 1];
};

static int datarep_read_t(void *userbuf, MPI_Datatype t, int count, void *filebuf,
                          MPI_Offset position, void *xs)
{
    struct pml_datarep *d = xs;
    return d->read(userbuf, (MPI_Datatype)pml_r2v(PML_TYPE, PML_H(t)), count, filebuf, position,
                   d->extra);
}

static int datarep_write_t(void *userbuf, MPI_Datatype t, int count, void *filebuf,
                           MPI_Offset position, void *xs)
{
    struct pml_datarep *d = xs;
    return d->write(userbuf, (MPI_Datatype)pml_r2v(PML_TYPE, PML_H(t)), count, filebuf, position,
                    d->extra);
}

static int datarep_extent_t(MPI_Datatype t, MPI_Aint *extent, void *xs)
{
    struct pml_datarep *d = xs;
    return d->extent((MPI_Datatype)pml_r2v(PML_TYPE, PML_H(t)), extent, d->extra);
}

static int datarep_register(struct pml_datarep *d)
{
    return pml_L.MPI_Register_datarep(d->name, d->read ? datarep_read_t : NULL,
                                      d->write ? datarep_write_t : NULL,
                                      d->extent ? datarep_extent_t : NULL, d);
}

int MPI_Register_datarep(const char *datarep, MPI_Datarep_conversion_function *read_fn,
                         MPI_Datarep_conversion_function *write_fn,
                         MPI_Datarep_extent_function *extent_fn, void *extra_state)
{
    if (!pml_L.MPI_Register_datarep)
        return pml_not_ready("MPI_Register_datarep");
    struct pml_datarep *d = xcalloc(1, sizeof *d);
    d->read = read_fn;
    d->write = write_fn;
    d->extent = extent_fn;
    d->extra = extra_state;
    snprintf(d->name, sizeof d->name, "%s", datarep ? datarep : "");
    PML_GATE_ENTER(PML_FID_MPI_Register_datarep);
    int rc = datarep_register(d);
    PML_GATE_LEAVE();
    if (rc != MPI_SUCCESS) {
        free(d);
        return rc;
    }
    /* recorded: a restart then refuses the job (no replay function, above) instead of losing it */
    struct pml_rec *R = pml_rec_open(PML_FID_MPI_Register_datarep);
    pml_rec_str(R, d->name);
    pml_rec_ptr(R, (const void *)read_fn);
    pml_rec_ptr(R, (const void *)write_fn);
    pml_rec_ptr(R, (const void *)extent_fn);
    pml_rec_ptr(R, d);
    pml_rec_close(R);
    return rc;
}
int PMPI_Register_datarep(const char *, MPI_Datarep_conversion_function *,
                          MPI_Datarep_conversion_function *, MPI_Datarep_extent_function *, void *)
    __attribute__((alias("pml_own_MPI_Register_datarep")));

/* ---- C and Fortran handles (functions of the library in both MPIs) ------------------------ */
/* The layer's own integers (fortran_handles.c): a restart opens the files again in a fresh
 * library, whose table numbers them as it pleases. */
MPI_Fint MPI_File_c2f(MPI_File file)
{
    static void *f;
    if (file == MPI_FILE_NULL)
        return 0;
    return pml_f_c2f(PML_H(file), PML_FILE, &f, "PMPI_File_c2f");
}

MPI_File MPI_File_f2c(MPI_Fint file)
{
    static void *f;
    if (file == 0)
        return MPI_FILE_NULL;
    return (MPI_File)pml_f_f2c(file, PML_FILE, &f, "PMPI_File_f2c");
}
MPI_Fint PMPI_File_c2f(MPI_File) __attribute__((alias("MPI_File_c2f")));
MPI_File PMPI_File_f2c(MPI_Fint) __attribute__((alias("MPI_File_f2c")));
