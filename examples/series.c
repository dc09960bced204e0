/* A small long-running computation for the demo: sums a slowly converging
 * series in steps, printing progress, and prints the final value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 40;
    double *terms = malloc(sizeof(double) * 1000000);
    double sum = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 1000000; i++) {
            long k = (long)s * 1000000 + i;
            terms[i] = (k % 2 ? -4.0 : 4.0) / (2.0 * k + 1.0);
        }
        for (int i = 0; i < 1000000; i++)
            sum += terms[i];
        printf("step %2d/%d  pi ~ %.12f\n", s + 1, steps, sum);
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    printf("result %.15f\n", sum);
    free(terms);
    return 0;
}
