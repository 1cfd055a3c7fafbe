/* main.c: the sensi binary: dispatch to one cmd_<name> per subcommand.
 * Before anything else it makes sure OpenBLAS runs kernels this CPU can
 * execute fast (see src/core/blas.h): if OpenBLAS fell back to a generic
 * kernel and OPENBLAS_CORETYPE is unset, it sets the variable and re-executes
 * itself once (SENSI_BLAS_REEXEC guards against loops). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/blas.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi <command> [options]\n"
"\n"
"sensi trains fully connected networks and measures how sensitive they are to\n"
"their inputs (Novak et al., ICLR 2018).\n"
"\n"
"commands:\n"
"  train      train one network on MNIST / Fashion-MNIST / CIFAR, print metrics (JSON)\n"
"  eval       evaluate a saved network (safetensors) on its data\n"
"  jacobian   input-output Jacobian norms per test/train point (CSV), with bounds\n"
"  transitions  activation-region transitions along closed trajectories\n"
"  slice      a 2-D slice of input space coloured by activation region (PNG)\n"
"  sweep      train and measure many networks from a spec into a SQLite database\n"
"             (all cores, resumable, MPI under mpirun, --shard for batch arrays)\n"
"  merge      combine shard databases of one sweep\n"
"  runs       list the runs of a database (table, CSV, JSON)\n"
"  analyze    correlations with the gap, factor pairs, per-point AUC, the paper's claims\n"
"  report     an HTML report with every figure (SVG + PNG, gnuplot) and table\n"
"  version    print version and BLAS information\n"
"\n"
"`sensi <command> --help` lists a command's options with their defaults.\n"
"Environment: SENSI_DATA_DIR (dataset root), OPENBLAS_CORETYPE (BLAS kernel,\n"
"chosen automatically when OpenBLAS does not recognise the CPU).\n");
}

static void ensure_fast_blas(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") || getenv("SENSI_BLAS_REEXEC"))
        return;
    const char *ct = blas_auto_coretype();
    if (!ct)
        return;
    setenv("OPENBLAS_CORETYPE", ct, 1);
    setenv("SENSI_BLAS_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* exec failed: go on with the generic kernels */
}

int main(int argc, char **argv)
{
    ensure_fast_blas(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        if (argc > 2)
            die("version: unexpected argument '%s' (it takes none)", argv[2]);
        printf("sensi %s\nBLAS: %s (kernel %s, %d threads)\nMPI: %s\n", SENSI_VERSION,
               blas_config(), blas_corename(), blas_get_threads(),
#ifdef SENSI_MPI
               "yes (sweeps run under mpirun)"
#else
               "no (built without libopenmpi-dev)"
#endif
        );
        return 0;
    }
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "jacobian"))
        return cmd_jacobian(argc - 1, argv + 1);
    if (!strcmp(cmd, "transitions"))
        return cmd_transitions(argc - 1, argv + 1);
    if (!strcmp(cmd, "slice"))
        return cmd_slice(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep"))
        return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge"))
        return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "runs"))
        return cmd_runs(argc - 1, argv + 1);
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    fprintf(stderr, "sensi: unknown command '%s' (see sensi --help)\n", cmd);
    return 2;
}
