"""Three small models and their MindSpore ports, compared by `eqcheck run examples/models --allow-module examples.models`."""
