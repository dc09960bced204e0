/* meta_key SEQDIR KEY [VALUE]: sets KEY of SEQDIR/snapshot.meta to VALUE, or removes it without
 * VALUE, and writes the file again with its checksum: a test makes a snapshot of an older version
 * (a key it lacked) or one that says otherwise, which a hand edit cannot (the checksum). Status 0,
 * or 1 with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filem/filem.h"

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: meta_key SEQDIR KEY [VALUE]\n");
        return 1;
    }
    struct filem_meta m, out;
    char err[512];
    filem_meta_init(&m);
    filem_meta_init(&out);
    if (filem_meta_read(argv[1], &m, err, sizeof err) < 0) {
        fprintf(stderr, "meta_key: %s\n", err);
        return 1;
    }
    /* every key but KEY, in order; then KEY when a VALUE is given */
    for (int i = 0; i < m.n; i++)
        if (strcmp(m.kv[i].key, argv[2]) && filem_meta_set(&out, m.kv[i].key, "%s", m.kv[i].value)) {
            fprintf(stderr, "meta_key: cannot copy %s\n", m.kv[i].key);
            return 1;
        }
    if (argc == 4 && filem_meta_set(&out, argv[2], "%s", argv[3])) {
        fprintf(stderr, "meta_key: cannot set %s\n", argv[2]);
        return 1;
    }
    if (filem_meta_write(argv[1], &out, err, sizeof err) < 0) {
        fprintf(stderr, "meta_key: %s\n", err);
        return 1;
    }
    filem_meta_free(&m);
    filem_meta_free(&out);
    return 0;
}
