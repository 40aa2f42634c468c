# `cytogate merge` and the Snakemake workflow (issue 10).
#   merge_identical  per-sample runs merged == one run (every file; cli)
#   merge_refuse     other config/version, duplicates, sheet mismatches
#                    refused naming the culprits (cli)
#   merge_snakemake  pipeline/workflow/ with snakemake --cores 2 and with
#                    the Slurm profile (stand-in sbatch) == one run (slow;
#                    fails when snakemake is not installed)
foreach(mode identical refuse)
  cg_add_test(merge_${mode} cli sh ${CG_TESTS_DIR}/cli/test_merge.sh
              $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}
              ${CG_TEST_OUT}/merge_${mode} ${mode})
endforeach()
cg_add_test(merge_snakemake slow sh ${CG_TESTS_DIR}/cli/test_snakemake.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}
            ${CG_TEST_OUT}/merge_snakemake)
set_tests_properties(merge_snakemake PROPERTIES TIMEOUT 900)
