"""compute_facts: a `Scene` in, its `SceneFacts` out. The only place with heavy geometry and a device choice."""

from __future__ import annotations

import numpy as np

from pipeline.geometry.config import GeometryConfig
from pipeline.geometry.culling import CulledCloud
from pipeline.geometry.device import Backend, make_backend
from pipeline.geometry.distances import closest_distances
from pipeline.geometry.floor import floor_height, free_space, room_footprint
from pipeline.geometry.frames import observe_frames
from pipeline.geometry.objects import scene_objects
from pipeline.geometry.occlusion import SurfaceOwners, vertex_owners
from pipeline.geometry.tracks import sample_track_points, view_overlap
from pipeline.geometry.views import MeshRaycaster, virtual_views
from pipeline.geometry.visibility import first_appearance
from schemas.facts import SceneFacts, Tracks
from sources.scene import Scene, SceneError


def memory_estimate(n_vertices: int, n_faces: int, depth_pixels: int = 640 * 480) -> int:
    """Generous peak bytes of compute_facts on top of the loaded scene: libraries, ~300 B per vertex (object
    points, per-frame temporaries, KD-trees), ~100 B per face (Embree BVH), a few depth-sized buffers.
    Measured on synthetic scenes: +32 MB at 230k vertices / 440k faces, +370 MB at 1.1M / 2.2M."""
    return 400 * 2**20 + 300 * n_vertices + 100 * n_faces + 16 * depth_pixels


# For the pipeline's scheduler: one core per scene (the heavy parts are vectorised numpy, single-threaded), and
# memory for a large ScanNet scene (~300k vertices, ~600k faces, 640x480 depth).
RESOURCES = {"num_cpus": 1, "memory": memory_estimate(300_000, 600_000)}


def check_object_count(scene: Scene, limit: int) -> None:
    """Fail a pathological scene before any per-object or per-pair work (pairs grow with the square)."""
    annotated = np.unique(scene.vertex_instance[scene.vertex_instance >= 0])
    count = int(np.isin(annotated, [o.instance_id for o in scene.objects]).sum())
    if count > limit:
        raise SceneError(
            f"{count} annotated objects own vertices, more than max_objects={limit} "
            "(a broken aggregation? pairwise facts would take hours)"
        )


def compute_facts(
    scene: Scene, config: GeometryConfig | None = None, backend: Backend | None = None
) -> SceneFacts:
    """`backend` overrides `config.device` (pipeline/bench_device.py runs the CUDA path's code on the CPU)."""
    config = config or GeometryConfig()
    check_object_count(scene, config.max_objects)
    backend = backend or make_backend(config.device)
    objects = scene_objects(scene)
    track_points = sample_track_points(scene, config.track_points)
    cloud = CulledCloud.build([o.points for o in objects], track_points)
    points = backend.asarray(cloud.points)
    raycaster = MeshRaycaster(scene.vertices, scene.faces, config.threads) if len(scene.faces) else None
    surface = None
    if raycaster is not None and objects:
        surface = SurfaceOwners(raycaster, scene.faces, vertex_owners(scene, objects))

    observed = observe_frames(scene, config.max_frames, backend, points, cloud, surface)

    floor_z = floor_height(scene.vertices, scene.floor_vertex_mask)
    footprint = room_footprint(scene.vertices) if floor_z is not None else None
    grid = free_space(footprint, scene.vertices, floor_z, config.grid_cell) if footprint is not None else None

    views = {}
    if observed.frames and config.virtual_view_frames > 0 and raycaster is not None and objects:
        width, height = config.virtual_view_size
        camera = scene.depth_camera.scaled_to(width, height)
        views = virtual_views(
            raycaster,
            observed.frames,
            camera,
            config.virtual_view_frames,
            backend,
            points,
            cloud,
        )

    return SceneFacts(
        source=scene.source,
        scene_id=scene.scene_id,
        objects=objects,
        frames=observed.frames,
        visibility=observed.visibility,
        closest=closest_distances([o.points for o in objects]),
        overlap=view_overlap(observed.track_visible),
        first_appearance=first_appearance(observed.visibility.visible),
        floor_z=floor_z,
        room_area=float(footprint.area) if footprint is not None else None,
        room_polygon=np.asarray(footprint.exterior.coords)[:-1] if footprint is not None else None,
        free_space=grid,
        tracks=Tracks(points=track_points, uv=observed.track_uv, visible=observed.track_visible),
        virtual_views=views,
        image_width=int(scene.color_camera.width),
        image_height=int(scene.color_camera.height),
    )
