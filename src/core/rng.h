/* rng.h: explicit-state pseudo-random numbers (xoshiro256**, splitmix64 seeding).
 * No global state: whoever draws owns an rng. Streams derive from
 * (seed, id) so that every run, worker and purpose gets its own sequence. */
#ifndef SENSI_RNG_H
#define SENSI_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seed r from a 64-bit seed (any value, 0 included). */
void rng_seed(rng *r, uint64_t seed);

/* A well-mixed 64-bit seed for stream `id` of `seed` (e.g. run id, purpose). */
uint64_t rng_derive(uint64_t seed, uint64_t id);

/* Next raw 64-bit draw. */
uint64_t rng_u64(rng *r);

/* Uniform double in [0, 1), 53 random bits. */
double rng_uniform(rng *r);

/* Uniform integer in [0, n), unbiased (n >= 1). */
uint32_t rng_below(rng *r, uint32_t n);

/* Standard normal draw (Box-Muller, no cached second value so the stream
 * position depends only on the number of calls). */
double rng_normal(rng *r);

/* n standard normal draws into z (n), two per step by Marsaglia's polar
 * method (no trigonometric call: about twice as fast per draw as
 * rng_normal, for bulk noise such as a bootstrap's redraws). A different
 * stream from n calls of rng_normal. */
void rng_normals(rng *r, double *z, long n);

/* Fisher-Yates shuffle of idx[0..n). */
void rng_shuffle(rng *r, int32_t *idx, int64_t n);

#endif
