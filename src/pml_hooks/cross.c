/* Pair clocks: the count of the calls that link two groups sharing no communicator the call is
 * counted on (campaign-failures.md #10).
 *
 * MPI_Intercomm_create is counted on each group's local communicator, but it is one collective
 * over both: the two leaders meet inside the library over the peer communicator. With only the
 * local counts, a group that had not entered the call when the targets were set was at its
 * targets and parked at a safe point (at the call's entry, or at an earlier collective on a
 * communicator of its own), while the other group waited inside the call for it: the checkpoint
 * never converged. MPI_Comm_create_group, counted on no communicator, did the same.
 *
 * So such a call is also counted on the clock of each pair of world ranks it links: the two
 * leaders (MPI_Intercomm_create), or the group's lowest world rank and each other member
 * (MPI_Comm_create_group). A pair clock is one more clock of two members for the protocol: its
 * id names both ranks (so a rank learns from the targets of a pair it has no clock for yet that
 * it is a member), the coordinator sets its target to the maximum count like any other, and a
 * rank behind on it is not at its targets: it runs on (raising the targets of the collectives
 * it must pass on its own communicators) until it has entered the awaited call. Once a waiting
 * leader's count is the target, the late one's group is raised through its local communicator. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <stdlib.h>
#include <string.h>

#define PAIR_TAG (3ull << 62) /* beside the files' and windows' clocks (1 << 63 | hash >> 1) */

static inline uint64_t pair_cid(int a, int b)
{
    uint64_t lo = (uint64_t)(a < b ? a : b), hi = (uint64_t)(a < b ? b : a);
    return PAIR_TAG | lo << 31 | hi;
}

int pml_pair_of(uint64_t cid, int *lo, int *hi)
{
    if ((cid & PAIR_TAG) != PAIR_TAG)
        return 0;
    *lo = (int)((cid >> 31) & 0x7fffffff);
    *hi = (int)(cid & 0x7fffffff);
    return 1;
}

/* the pair clocks of this rank, by id (open addressing). Never freed, and need not be: only pairs
 * this rank belongs to get one (pml_pair_clock_locked), so at most world size - 1 per rank,
 * whatever the number of calls; and a rank may not drop one alone (its partner's count would then
 * look ahead of a clock this rank no longer reports). */
static struct pml_comm **tab;
static uint32_t tab_cap, tab_n;

static uint32_t slot_of(uint64_t cid)
{
    return (uint32_t)((cid * 0x9E3779B97F4A7C15ull) >> 32) & (tab_cap - 1);
}

/* With pml_ck_lock held. */
struct pml_comm *pml_pair_clock_locked(uint64_t cid)
{
    if (tab_cap) {
        for (uint32_t s = slot_of(cid); tab[s]; s = (s + 1) & (tab_cap - 1))
            if (tab[s]->cid == cid)
                return tab[s];
    }
    int lo, hi;
    if (!pml_pair_of(cid, &lo, &hi) || (lo != pml_world_rank && hi != pml_world_rank))
        return NULL;
    if (2 * (tab_n + 1) > tab_cap) {
        uint32_t cap = tab_cap ? 2 * tab_cap : 64;
        struct pml_comm **t = calloc(cap, sizeof *t);
        if (!t)
            pml_fatal("out of memory for the clocks of pairs of ranks");
        for (uint32_t i = 0; i < tab_cap; i++)
            if (tab[i]) {
                uint32_t s = (uint32_t)((tab[i]->cid * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
                while (t[s])
                    s = (s + 1) & (cap - 1);
                t[s] = tab[i];
            }
        free(tab);
        tab = t;
        tab_cap = cap;
    }
    struct pml_comm *c = calloc(1, sizeof *c);
    int *wmap = malloc(2 * sizeof *wmap);
    if (!c || !wmap)
        pml_fatal("out of memory for the clock of a pair of ranks");
    c->cid = cid;
    c->size = 2;
    c->rank = lo == pml_world_rank ? 0 : 1;
    c->flags = PML_COMM_OBJ;
    c->v = 0; /* no communicator: the drain has nothing to probe on it */
    c->eh_fatal = 1;
    c->nmap = 2;
    wmap[0] = lo;
    wmap[1] = hi;
    c->wmap = wmap;
    uint32_t s = slot_of(cid);
    while (tab[s])
        s = (s + 1) & (tab_cap - 1);
    tab[s] = c;
    tab_n++;
    pml_clock_add_locked(c);
    return c;
}

/* The pair clocks of {me, each of others[0..n)} (skipping me and ranks out of the world), into
 * xs[] (room for n), with pml_ck_lock held. */
static int pairs_locked(const int *others, int n, struct pml_comm **xs)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (others[i] >= 0 && others[i] < pml_world_size && others[i] != pml_world_rank)
            xs[k++] = pml_pair_clock_locked(pair_cid(pml_world_rank, others[i]));
    return k;
}

/* The same into a fresh array. */
static int pairs(const int *others, int n, struct pml_comm ***out)
{
    struct pml_comm **xs = malloc((size_t)(n > 0 ? n : 1) * sizeof *xs);
    if (!xs)
        pml_fatal("out of memory for the clocks of pairs of ranks");
    pthread_mutex_lock(&pml_ck_lock);
    int k = pairs_locked(others, n, xs);
    pthread_mutex_unlock(&pml_ck_lock);
    *out = xs;
    return k;
}

int pml_cross_intercomm(uintptr_t local, int local_leader, uintptr_t peer, int remote_leader,
                        struct pml_comm ***out)
{
    *out = NULL;
    struct pml_comm *l = pml_comm_of(local), *p = pml_comm_of(peer);
    if (!l || l->rank != local_leader || !p || p->inter || remote_leader < 0)
        return 0; /* not a leader (or a bad call: the library says so) */
    int w = remote_leader;
    if (p->wmap) {
        if (remote_leader >= p->nmap)
            return 0;
        w = p->wmap[remote_leader];
    }
    return pairs(&w, 1, out);
}

int pml_cross_group(uintptr_t group, struct pml_comm ***out)
{
    *out = NULL;
    int n = 0, *w = NULL;
    {
        /* the group's members, from the lower half: through the gate of its own */
        PML_GATE_ENTER(PML_FID_MPI_Comm_create_group);
        MPI_Group g = (MPI_Group)pml_v2r(group);
        if (pml_L.MPI_Group_size(g, &n) == MPI_SUCCESS && n > 1)
            w = pml_world_map(g, n);
        PML_GATE_LEAVE();
    }
    if (!w)
        return 0;
    int lowest = pml_world_size, mine = 0;
    for (int i = 0; i < n; i++) {
        if (w[i] >= 0 && w[i] < lowest)
            lowest = w[i];
        mine |= w[i] == pml_world_rank;
    }
    int k = 0;
    if (mine && lowest == pml_world_rank)
        k = pairs(w, n, out);       /* the lowest member: a pair with every other */
    else if (mine && lowest < pml_world_size)
        k = pairs(&lowest, 1, out); /* the others: their pair with the lowest */
    free(w);
    return k;
}

/* MPI_Win_post and MPI_Win_start are counted on the pair clocks of this rank with each member of
 * their group (win.c). A post/start epoch holds a snapshot back until it closes, and it closes
 * only with the matching calls of the group's members: without a count they could make, a rank
 * that had said "at my targets" opened one right after (the state is read once; the coordinator
 * then closed every gate), and either the snapshot waited for a rank inside MPI_Win_wait whose
 * partner was parked, or it was taken with the epoch open (tests/mpi/ckpt/rst_pscw.sh). Counted,
 * a rank at its targets parks at the call's entry instead, and one behind (its partner opened the
 * matching epoch before the counts were read) runs on to it. With every epoch closed the counts
 * of a pair are equal (each closed post is matched by a closed start of the partner, and each
 * closed start by its post, in both libraries), so the targets ask for nothing more. */
/* Translated at every MPI_Win_post and MPI_Win_start, a group cost the layer three calls of the
 * lower half, two of them making and freeing a group, and two mallocs per epoch (bench/mpi
 * layercost.sh, pscw_8B: 1.72 times native on Open MPI); a group cannot change, so it is done
 * once per group. Its pair clocks were then still looked up under the clock lock into a fresh
 * array at every post and start: they are kept with the map too (pml_cross_win_group). */
const struct pml_group_map *pml_group_map(uintptr_t group)
{
    static uint64_t serials;
    struct pml_vh *h = pml_vh_of(group);
    if (!h || h->kind != PML_GROUP)
        return NULL;
    struct pml_group_map *m = __atomic_load_n((struct pml_group_map **)&h->aux, __ATOMIC_ACQUIRE);
    if (m)
        return m;
    MPI_Group g = (MPI_Group)pml_v2r(group);
    int n = 0;
    if (pml_L.MPI_Group_size(g, &n) != MPI_SUCCESS || n <= 0)
        return NULL;
    int *w = pml_world_map(g, n);
    /* world[n], then the pair clocks' n slots, aligned */
    size_t at = (sizeof *m + (size_t)n * sizeof m->world[0] + sizeof(void *) - 1) &
                ~(sizeof(void *) - 1);
    m = malloc(at + (size_t)n * sizeof *m->pairs);
    if (!m)
        pml_fatal("out of memory for the world ranks of a group");
    m->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    m->n = n;
    m->npairs = -1;
    m->pairs = (struct pml_comm **)((char *)m + at);
    memcpy(m->world, w, (size_t)n * sizeof m->world[0]);
    free(w);
    /* another thread may have made it meanwhile: keep one */
    void *none = NULL;
    if (!__atomic_compare_exchange_n(&h->aux, &none, m, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(m);
        m = none;
    }
    return m;
}

int pml_cross_win_group_slow(uintptr_t group, uint32_t fid, struct pml_comm *const **out,
                             const struct pml_group_map **map)
{
    *out = NULL;
    struct pml_vh *h = pml_vh_of(group);
    struct pml_group_map *m = h && h->kind == PML_GROUP
                                  ? __atomic_load_n((struct pml_group_map **)&h->aux, __ATOMIC_ACQUIRE)
                                  : NULL;
    if (!m) { /* the first post or start on this group: it may ask the lower half */
        PML_GATE_ENTER(fid);
        m = (struct pml_group_map *)pml_group_map(group);
        PML_GATE_LEAVE();
    }
    *map = m;
    if (!m)
        return 0;
    int k = __atomic_load_n(&m->npairs, __ATOMIC_ACQUIRE);
    if (k < 0) {
        pthread_mutex_lock(&pml_ck_lock);
        k = m->npairs;
        if (k < 0) {
            k = pairs_locked(m->world, m->n, m->pairs);
            __atomic_store_n(&m->npairs, k, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&pml_ck_lock);
    }
    *out = m->pairs;
    return k;
}
