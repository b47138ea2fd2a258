from memoized_development.ops.file_version import get_hash_for_file
from nbflow import op


@op(version=get_hash_for_file(__file__), config_schema={"tree_species": str})
def emit_tree(context):
    return context.op_config["tree_species"]
