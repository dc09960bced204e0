/* The rule of which of the MPI library's opens and closes may wait (src/pml_hooks/lower_waits.h),
 * from made-up stats: FIFOs (but O_RDWR) and terminals wait; the fabric's and the GPU's devices,
 * /dev/null's kin, regular files, directories, sockets do not (diffrev35 R-M2: every device but
 * major 1 was taken out of its fork guard section). And the rules of lower_inner.c's lookups: an
 * NSS database whose sources are local files only, a host name /etc/hosts answers. */
#define _GNU_SOURCE
#include "pml_hooks/lower_waits.h"
#include "tests/unit_assert.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int open_waits(unsigned mode, unsigned maj, unsigned min, int acc)
{
    return pml_lower_kind_waits(mode, makedev(maj, min), acc, 0);
}

static int close_waits(unsigned mode, unsigned maj, unsigned min)
{
    return pml_lower_kind_waits(mode, makedev(maj, min), 0, 1);
}

/* the NSS rule on an nsswitch.conf text (lower_inner.c's lookups) */
static int nss(const char *conf, const char *db)
{
    return pml_lower_nss_rule(conf, conf ? strlen(conf) : 0, db);
}

static void nss_rule(void)
{
    const char *debian = "# /etc/nsswitch.conf\n\npasswd:         files\ngroup:          files\n"
                         "shadow:         files\ngshadow:        files\n\nhosts:          files dns\n"
                         "networks:       files\n\nprotocols:      db files\nservices:       db files\n";
    ASSERT_EQ(nss(debian, "passwd"), 0);
    ASSERT_EQ(nss(debian, "group"), 0);
    ASSERT_EQ(nss(debian, "initgroups"), 0); /* no line of its own: group's */
    ASSERT_EQ(nss(debian, "services"), 0);
    ASSERT_EQ(nss(debian, "hosts"), 1); /* dns */
    const char *sssd = "passwd: files systemd sss\n group:\tfiles [SUCCESS=merge] sss # comment\n"
                       "hosts: files myhostname\nservices: files [NOTFOUND=return]\n";
    ASSERT_EQ(nss(sssd, "passwd"), 1);
    ASSERT_EQ(nss(sssd, "group"), 1);
    ASSERT_EQ(nss(sssd, "initgroups"), 1);
    ASSERT_EQ(nss(sssd, "hosts"), 0); /* myhostname asks the kernel */
    ASSERT_EQ(nss(sssd, "services"), 0); /* an action is no source */
    ASSERT_EQ(nss("passwd: compat\ngroup: ldap files\n", "passwd"), 1); /* compat may ask NIS */
    ASSERT_EQ(nss("passwd: compat\ngroup: ldap files\n", "group"), 1);
    ASSERT_EQ(nss("passwdx: ldap\npasswd : files\n", "passwd"), 0); /* the name, then ':' */
    /* no file, or no line: glibc's defaults (hosts: dns [!UNAVAIL=return] files; others: files) */
    ASSERT_EQ(nss(NULL, "passwd"), 0);
    ASSERT_EQ(nss(NULL, "hosts"), 1);
    ASSERT_EQ(nss("group: sss\n", "passwd"), 0);
    /* a host name /etc/hosts answers: files first, the name or an alias listed */
    ASSERT_EQ(pml_lower_hosts_files_first(debian, strlen(debian)), 1);
    ASSERT_EQ(pml_lower_hosts_files_first("hosts: dns files\n", strlen("hosts: dns files\n")), 0);
    ASSERT_EQ(pml_lower_hosts_files_first("hosts: filesx dns\n", strlen("hosts: filesx dns\n")), 0);
    ASSERT_EQ(pml_lower_hosts_files_first(NULL, 0), 0);
    const char *hosts = "127.0.0.1\tlocalhost\n::1     localhost ip6-localhost ip6-loopback\n"
                        "# 10.0.0.1 commented\n10.0.0.2 node2.example node2 # an alias\n10.0.0.3";
    size_t hl = strlen(hosts);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "localhost"), 1);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "LocalHost"), 1);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "ip6-loopback"), 1);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "node2"), 1);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "commented"), 0);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "an"), 0);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "127.0.0.1"), 0); /* an address is no name */
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "local"), 0);
    ASSERT_EQ(pml_lower_hosts_lists(hosts, hl, "10.0.0.3"), 0);
}

int main(void)
{
    /* FIFOs: an open for one end waits for the other; O_RDWR and a close never wait */
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_RDONLY), 1);
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_WRONLY), 1);
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_RDWR), 0);
    ASSERT_EQ(close_waits(S_IFIFO | 0600, 0, 0), 0);
    /* terminals: /dev/ttyS0 (4,64), /dev/tty (5,0), /dev/ptmx (5,2), /dev/pts/N (136-143) */
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 4, 64, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0666, 5, 0, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0666, 5, 2, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 136, 3, O_WRONLY), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 143, 255, O_RDONLY), 1);
    ASSERT_EQ(close_waits(S_IFCHR | 0620, 136, 3), 1);
    ASSERT_EQ(close_waits(S_IFCHR | 0620, 4, 64), 1);
    /* devices an MPI library opens, which must keep their section: /dev/null, /dev/urandom (1),
     * uverbs (231), rdma_cm, knem, xpmem (misc 10), nvidia (195), nvidia-uvm and hfi1 (dynamic
     * majors, e.g. 234, 240), and a block device */
    const unsigned kept[][2] = { { 1, 3 }, { 1, 9 }, { 231, 192 }, { 10, 58 }, { 10, 59 }, { 195, 0 },
                                 { 195, 255 }, { 234, 0 }, { 240, 1 }, { 135, 0 }, { 144, 0 } };
    for (unsigned i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        ASSERT_EQ(open_waits(S_IFCHR | 0666, kept[i][0], kept[i][1], O_RDWR), 0);
        ASSERT_EQ(close_waits(S_IFCHR | 0666, kept[i][0], kept[i][1]), 0);
    }
    ASSERT_EQ(open_waits(S_IFBLK | 0660, 8, 0, O_RDONLY), 0);
    /* files, directories, sockets (a socket's close is told by SO_LINGER, not by its kind) */
    ASSERT_EQ(open_waits(S_IFREG | 0600, 0, 0, O_RDONLY), 0);
    ASSERT_EQ(open_waits(S_IFDIR | 0700, 0, 0, O_RDONLY), 0);
    ASSERT_EQ(close_waits(S_IFSOCK | 0600, 0, 0), 0);
    printf("PASS: lower_waits_rule: FIFOs and terminals wait; /dev/null's kin, the fabric's and GPU's devices, "
           "block devices, files, directories, sockets keep their fork guard section\n");
    nss_rule();
    printf("PASS: lower_waits_rule: NSS lookups wait unless every source of the database is files, db or "
           "myhostname; a host name listed in /etc/hosts with files first does not\n");
    return 0;
}
