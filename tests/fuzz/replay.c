/*
 * replay.c -- runs LLVMFuzzerTestOneInput (fuzz_fcs_read.c) over files
 * and directories given on the command line, without libFuzzer: the kept
 * fuzz corpus and past crash inputs become an ordinary test (label fuzz).
 * A broken invariant aborts, which fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf)
        return -1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int files = 0, bad = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "replay: %s not found\n", argv[a]);
            bad++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += run_file(argv[a]) < 0;
            files++;
            continue;
        }
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        char **names = NULL;
        int nn = 0;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            names = realloc(names, (size_t)(nn + 1) * sizeof *names);
            size_t L = strlen(argv[a]) + strlen(e->d_name) + 2;
            names[nn] = malloc(L);
            snprintf(names[nn++], L, "%s/%s", argv[a], e->d_name);
        }
        if (d)
            closedir(d);
        if (nn)
            qsort(names, (size_t)nn, sizeof *names, cmp);
        for (int i = 0; i < nn; i++) {
            struct stat s2;
            if (stat(names[i], &s2) == 0 && S_ISREG(s2.st_mode)) {
                bad += run_file(names[i]) < 0;
                files++;
            }
            free(names[i]);
        }
        free(names);
    }
    printf("replayed %d inputs, %d unreadable\n", files, bad);
    return (bad || files == 0) ? 1 : 0;
}
