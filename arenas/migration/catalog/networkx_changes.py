"""NetworkX 2.8 -> 3.4: the 3.0 removals (NumPy matrix helpers, nx.info, ordered graphs)."""

from arenas.migration.catalog.base import Change, edge_lists

V3 = "https://networkx.org/documentation/stable/release/release_3.0.html#api-changes"
NX = (("nx", "networkx"),)

CHANGES = [
    Change(
        "networkx.to_numpy_matrix", "networkx", "nx.to_numpy_matrix was removed; use nx.to_numpy_array", V3,
        ("api:networkx.to_numpy_matrix",),
        '''import networkx as nx


def ${key}_degrees(links):
    """Degree of each ${key} in an undirected ${key} network, from its adjacency matrix."""
    G = nx.Graph()
    G.add_edges_from(links)
    order = sorted(G.nodes())
    A = «nx.to_numpy_matrix(G, nodelist=order)¦nx.to_numpy_array(G, nodelist=order)»
    degrees = A.sum(axis=1)
    return {n: int(degrees[i«, 0¦»]) for i, n in enumerate(order)}
''', "${key}_degrees", "Computes ${key} degrees from an adjacency matrix.", edge_lists(), NX),
    Change(
        "networkx.from_numpy_matrix", "networkx", "nx.from_numpy_matrix was removed; use nx.from_numpy_array", V3,
        ("api:networkx.from_numpy_matrix",),
        '''import networkx as nx
import numpy as np


def ${key}_components(matrix):
    """Connected groups of ${key}s given a 0/1 adjacency matrix."""
    G = «nx.from_numpy_matrix(np.matrix(matrix))¦nx.from_numpy_array(np.array(matrix))»
    return sorted(sorted(c) for c in nx.connected_components(G))
''', "${key}_components", "Finds connected groups of ${key}s from an adjacency matrix.",
        lambda rng, d: [repr([[0 if i == j else int(rng.random() < 0.3) for j in range(5)] for i in range(5)])
                        for _ in range(6)], NX),
    Change(
        "networkx.info", "networkx", "nx.info was removed; use str(G) or G.number_of_nodes()/edges()", V3,
        ("api:networkx.info",),
        '''import networkx as nx


def ${key}_network_summary(links):
    """Node and edge counts of a ${key} network, parsed from its summary."""
    G = nx.Graph(links)
    «text = nx.info(G)
    nodes = int(text.split("with ")[1].split(" nodes")[0])
    edges = int(text.split("and ")[1].split(" edges")[0])¦nodes = G.number_of_nodes()
    edges = G.number_of_edges()»
    return {"nodes": nodes, "edges": edges}
''', "${key}_network_summary", "Summarises the size of a ${key} network.", edge_lists(), NX),
    Change(
        "networkx.OrderedGraph", "networkx", "nx.OrderedGraph was removed; nx.Graph keeps insertion order", V3,
        ("api:networkx.OrderedGraph",),
        '''import networkx as nx


def ${key}_visit_order(links):
    """${key}s in the order they first appear in the link list, with their neighbours."""
    G = «nx.OrderedGraph()¦nx.Graph()»
    G.add_edges_from(links)
    return [[n, sorted(G.neighbors(n))] for n in G.nodes()]
''', "${key}_visit_order", "Lists ${key}s in insertion order with neighbours.", edge_lists(), NX),
    Change(
        "networkx.to_numpy_recarray", "networkx",
        "nx.to_numpy_recarray was removed; build the array from G.edges(data=True)", V3,
        ("api:networkx.to_numpy_recarray",),
        '''import networkx as nx
import numpy as np


def heaviest_${key}_link(links):
    """Weight matrix of a ${key} network and the heaviest link weight."""
    G = nx.Graph()
    G.add_weighted_edges_from(links)
    order = sorted(G.nodes())
    «rec = nx.to_numpy_recarray(G, nodelist=order, dtype=[("weight", float)])
    W = rec.weight¦W = nx.to_numpy_array(G, nodelist=order, weight="weight")»
    return {"max": float(np.max(W)), "total": float(np.sum(W)) / 2}
''', "heaviest_${key}_link", "Finds the heaviest link of a weighted ${key} network.", edge_lists(weighted=True), NX),
]
