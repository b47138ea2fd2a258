from memoized_development.ops.file_version import get_hash_for_file
from nbflow import op


@op(version=get_hash_for_file(__file__))
def emit_sentence(dog_breed, tree_species):
    return f"{dog_breed} is a breed of dog, while {tree_species} is a species of tree."
