/*
 * State test: a shell script caught mid-step (issue 10, point 1). This
 * program execs bash (same pid: cr_run's contract) on the script below,
 * whose steps are a pipeline inside a command substitution and a child
 * command, each a crt_step that the checkpoint catches before it ends (bash
 * waits for it in the middle of the step). The script prints each step's
 * exit status and output: after a restart of the whole tree (cr_checkpoint
 * --tree) they must be the uninterrupted run's, as a script's results
 * depend on them. With CRT_SCRIPT_NULL=1 step 1 is a child command whose stdin
 * on /dev/zero and whose stdout on /dev/null the script put there: they must still be after a restart,
 * not cr_restart's streams (newuser10 F5). With CRT_SCRIPT_MADE=1 step 1 is a child command
 * whose stdin is a here-document (a pipe bash made and wrote, its writer closed) and whose
 * stdout is a regular file, both put there by the script: the step reads the document's bytes,
 * then end of file, and writes into the file after a restart too (tidy32: any stream a member
 * put there is restored as it was recorded). Contract: crt_common.h (the script follows it
 * itself).
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char script[] =
    "set -o pipefail\n"
    "step=$1/crt_step\n"
    "n=0\n"
    "say() { n=$((n + 1)); printf '%02d %s\\n' $n \"$*\"; }\n"
    "say 'a shell script whose steps are a pipeline and a child command'\n"
    "echo '-- checkpoint 1 --'\n"
    "if [ \"$2\" = null ]; then\n"
    "  \"$step\" 1 5 $$ null </dev/zero >/dev/null\n"
    "  st=$?\n"
    "  r=$(echo $st | cksum)\n"
    "  say \"step 1 (a child command on /dev/zero and /dev/null): status $st, output $r\"\n"
    "elif [ \"$2\" = made ]; then\n"
    "  if [ -n \"$REVIVE_TEST_READY\" ]; then out=${REVIVE_TEST_READY%/*}/crt_script.step1; "
    "else out=${TMPDIR:-/tmp}/crt_script.$$.step1; fi\n"
    "  \"$step\" 1 5 $$ made >\"$out\" <<'EOS'\n"
    "a here-document: a pipe its script made and wrote\n"
    "its second line, then end of file\n"
    "EOS\n"
    "  st=$?\n"
    "  r=$(cksum <\"$out\")\n"
    "  [ -n \"$REVIVE_TEST_READY\" ] || rm -f \"$out\"\n"
    "  say \"step 1 (a child command on a here-document and a file): status $st, output $r\"\n"
    "else\n"
    "  r=$(\"$step\" 1 5 $$ | tr a-z A-Z | cksum)\n"
    "  st=$?\n"
    "  say \"step 1 (a pipeline in \\$(...)): status $st, output $r\"\n"
    "fi\n"
    "[ \"$st\" = 5 ] || { say \"FAIL step 1: status $st, expected 5\"; fails1=1; }\n"
    "echo '-- checkpoint 2 --'\n"
    "\"$step\" 2 7 $$\n"
    "st=$?\n"
    "say \"step 2 (a child command): status $st\"\n"
    "fails=${fails1:-0}\n"
    "[ \"$st\" = 7 ] || { say \"FAIL step 2: status $st, expected 7\"; fails=$((fails + 1)); }\n"
    "case \"$r\" in '' | *[!0-9\\ ]*) say \"FAIL step 1: output '$r'\"; fails=$((fails + 1)) ;; esac\n"
    "if [ -n \"$REVIVE_TEST_READY\" ]; then echo $$ >\"$REVIVE_TEST_READY.done.tmp\" && "
    "mv \"$REVIVE_TEST_READY.done.tmp\" \"$REVIVE_TEST_READY.done\"; fi\n"
    "[ $fails = 0 ] && say 'RESULT ok' && exit 42\n"
    "say \"RESULT FAIL ($fails)\"\n"
    "exit 1\n";

int main(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        perror("crt_script: /proc/self/exe");
        return 2;
    }
    self[n] = 0;
    /* CRT_SCRIPT_NULL=1: step 1 runs with its stdin on /dev/zero and stdout on /dev/null, as the script
     * put them (`cmd </dev/zero >/dev/null`); crt_step checks they still are (newuser10 F5, newuser10b N1) */
    const char *null_mode = getenv("CRT_SCRIPT_NULL");
    /* CRT_SCRIPT_MADE=1: step 1 on a here-document (a pipe) and a regular file the script put there */
    const char *made_mode = getenv("CRT_SCRIPT_MADE");
    const char *mode = null_mode && *null_mode == '1' ? "null" : made_mode && *made_mode == '1' ? "made" : "pipe";
    execl("/bin/bash", "bash", "-c", script, "crt_script", dirname(self), mode, (char *)NULL);
    perror("crt_script: /bin/bash");
    return 2;
}
