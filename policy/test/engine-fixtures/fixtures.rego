# Entrypoints for dockgate's engine unit tests. Most misbehave on purpose: every way a policy can
# fail must end in a PolicyError (and so a denial), never in a decision.
package dockgate.fixtures

# Returns input.result as the decision, so a test can push any value through the real wasm path.
echo := input.result

# Two values for one complete rule when input.a != input.b: a runtime conflict (opa_abort).
conflict := {"allowed": true, "warnings": [input.a]}

conflict := {"allowed": true, "warnings": [input.b]}

# Undefined (empty result set) unless input.defined is true.
undefined_unless := {"allowed": true} if input.defined == true

# Allocates input.n numbers: with a small memory cap this exhausts the wasm memory.
memory_hog := {"allowed": true, "warnings": [format_int(count(numbers.range(1, input.n)), 10)]}

# Calls builtins that opa-wasm implements in JavaScript rather than in the wasm module.
js_builtins := {"allowed": true, "warnings": [sprintf("%s has %d parts", [input.s, count(regex.split(",", input.s))])]}

# Calls the yaml builtins, which opa-wasm implements with a YAML parser dockgate loads on first use.
yaml_builtins := {"allowed": true, "warnings": [yaml.marshal(yaml.unmarshal(input.s)), json.marshal(yaml.is_valid(input.s))]}

# Shows the parameters the policy sees: the bundle's data.json merged with the engine's data.
params := {"allowed": true, "warnings": [json.marshal(data.params)]}
