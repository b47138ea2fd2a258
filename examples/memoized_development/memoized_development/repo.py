"""The memoized job: every output versioned and kept under ./results by version."""

from memoized_development.ops.dog import emit_dog
from memoized_development.ops.sentence import emit_sentence
from memoized_development.ops.tree import emit_tree
from nbflow import MEMOIZED_RUN_TAG, job, versioned_filesystem_io_manager


@job(
    resource_defs={"io_manager": versioned_filesystem_io_manager},
    tags={MEMOIZED_RUN_TAG: "true"},
)
def my_job():
    emit_sentence(emit_dog(), emit_tree())
