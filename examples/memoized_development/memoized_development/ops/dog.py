from memoized_development.ops.file_version import get_hash_for_file
from nbflow import op


@op(version=get_hash_for_file(__file__), config_schema={"dog_breed": str})
def emit_dog(context):
    return context.op_config["dog_breed"]
