#!/usr/bin/env python3
"""Fails when modules of src/ depend on each other in a cycle.

A module's dependencies are the `crate::...` and `super::...` paths its
non-test code names (comments and `#[cfg(test)] mod tests` left out),
resolved to the deepest module that exists. A parent and its own child
modules are one unit (a `mod.rs` re-exporting its children is not a cycle).
Prints every cycle (strongly connected component) and exits 1 if any.
"""

import glob
import re
import sys


def module_of(path):
    parts = path[len("src/"):-len(".rs")].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def main():
    files = [
        p for p in glob.glob("src/**/*.rs", recursive=True)
        if not p.endswith("/tests.rs") and "/tests/" not in p
    ]
    modules = {module_of(p) for p in files}

    def resolve(path):
        parts = path.split("::")
        for i in range(len(parts), 0, -1):
            candidate = "::".join(parts[:i])
            if candidate in modules:
                return candidate
        return None

    graph = {m: set() for m in modules}
    for path in files:
        module = module_of(path)
        text = open(path, encoding="utf-8").read()
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
        text = re.sub(r"//[^\n]*", "", text)
        parent = "::".join(module.split("::")[:-1])
        named = re.findall(r"crate::([a-z_]+(?:::[a-z_]+)*)", text)
        named += [(parent + "::" if parent else "") + m
                  for m in re.findall(r"\bsuper::([a-z_]+)", text)]
        for target in filter(None, map(resolve, named)):
            related = (target == module or module.startswith(target + "::")
                       or target.startswith(module + "::"))
            if not related:
                graph[module].add(target)

    # Tarjan's strongly connected components, iteratively.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    edges = sum(len(v) for v in graph.values())
    if cycles:
        for cycle in cycles:
            print("modules that depend on each other:", ", ".join(cycle))
            for a in cycle:
                print(f"  {a} -> " + ", ".join(sorted(graph[a] & set(cycle))))
        return 1
    print(f"{len(modules)} modules, {edges} dependencies, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
