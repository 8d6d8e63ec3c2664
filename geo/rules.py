"""The rule catalogue: stable rule names, default severities and messages in Chinese and English."""

from __future__ import annotations

from typing import Literal

# error: cannot be published; blocking: published only with an explicit acknowledgement
# (recorded in the audit log); warning: for information.
Severity = Literal["error", "blocking", "warning"]

# rule: (severity, message_zh, message_en); templates are filled from Problem.data.
RULES: dict[str, tuple[Severity, str, str]] = {
    "empty_file": ("error", "文件为空。", "The file is empty."),
    "not_utf8": (
        "error",
        "文件不是 UTF-8 编码{guess_zh}。请以 UTF-8 重新导出（Shapefile 请附 .cpg 文件）。",
        "The file is not UTF-8{guess_en}. Export it again as UTF-8 "
        "(for a Shapefile, keep its .cpg file).",
    ),
    "not_json": ("error", "不是合法的 JSON：{detail}", "Not valid JSON: {detail}"),
    "nul_character": (
        "error",
        "文件在 {where} 处含有 NUL 字符（U+0000），数据库无法保存。请删除该字符后重新导出。",
        "The file holds a NUL character (U+0000) at {where}, which the database cannot store. "
        "Remove it and export again.",
    ),
    "non_finite_number": (
        "error",
        "JSON 中出现 {token}，这不是合法的数字。",
        "The JSON contains {token}, which is not a valid number.",
    ),
    "not_geojson": ("error", "不是 GeoJSON：{detail}", "Not GeoJSON: {detail}"),
    "type_case": (
        "error",
        "type 的大小写错误：“{got}” 应为 “{expected}”。",
        'Wrong case in type: "{got}" should be "{expected}".',
    ),
    "crs_conflict": (
        "warning",
        "文件声明的坐标系是 {file_crs}，上传时选择的是 {chosen}；采用 {used}。{why_zh}",
        "The file declares {file_crs} but {chosen} was chosen; {used} is used. {why_en}",
    ),
    "crs_unknown": (
        "error",
        "文件声明了无法识别的坐标系：{file_crs}。",
        "The file declares a CRS we cannot use: {file_crs}.",
    ),
    "crs_note": ("warning", "{note}", "{note}"),
    "geometry_null": ("error", "要素没有几何图形。", "The feature has no geometry."),
    "not_polygon": (
        "error",
        "网格必须是 Polygon 或 MultiPolygon，这里是 {geometry_type}。",
        "A grid cell must be a Polygon or MultiPolygon, not {geometry_type}.",
    ),
    "bad_nesting": (
        "error",
        "坐标数组的嵌套层数不对（{detail}）。",
        "The coordinates are nested wrongly ({detail}).",
    ),
    "string_coordinate": (
        "error",
        "坐标是字符串 {value!r}，应为数字。",
        "A coordinate is the string {value!r}, not a number.",
    ),
    "bad_position": (
        "error",
        "坐标点必须是 [经度, 纬度]，这里是 {value}。",
        "A position must be [lon, lat]; got {value}.",
    ),
    "position_4d": (
        "error",
        "坐标点有 {dims} 个数值；只接受二维（三维的高程会被丢弃）。",
        "A position has {dims} numbers; only 2-D (or 3-D, Z dropped) is accepted.",
    ),
    "mixed_dimensions": (
        "error",
        "同一个环里混有二维和三维坐标点。",
        "A ring mixes 2-D and 3-D positions.",
    ),
    "z_dropped": ("warning", "高程（Z）值已丢弃。", "Z values were dropped."),
    "ring_too_short": (
        "error",
        "环只有 {count} 个坐标点，至少需要 4 个（首尾相同）。",
        "A ring has {count} positions; at least 4 are needed (first = last).",
    ),
    "ring_not_closed": (
        "error",
        "环没有闭合：首点与末点不同。",
        "A ring is not closed: its first and last positions differ.",
    ),
    "ring_degenerate": (
        "error",
        "环只有 {unique} 个不同的点，无法围成面。",
        "A ring has only {unique} distinct points and encloses no area.",
    ),
    "coordinates_out_of_range": (
        "error",
        "坐标超出经纬度范围（{value}）。",
        "Coordinates are outside the lon/lat range ({value}).",
    ),
    "axes_swapped": (
        "error",
        "坐标看起来是 [纬度, 经度]，GeoJSON 要求 [经度, 纬度]（{value}）。",
        "Coordinates look like [lat, lon]; GeoJSON needs [lon, lat] ({value}).",
    ),
    "metres_as_degrees": (
        "error",
        "坐标像是以米为单位的投影坐标（{value}），但声明的是经纬度（{datum}）。请选择正确的坐标系。",
        "Coordinates look like projected metres ({value}) but {datum} (degrees) was declared. "
        "Choose the right CRS.",
    ),
    "far_from_district": (
        "error",
        "图形离本辖区太远（约 {distance_km} 公里）。",
        "The geometry is far from the district (about {distance_km} km away).",
    ),
    "self_intersection": (
        "error",
        "多边形自相交。",
        "The polygon intersects itself.",
    ),
    "hole_outside_shell": (
        "error",
        "内环（洞）在外环之外。",
        "A hole lies outside its shell.",
    ),
    "hole_crosses_shell": (
        "error",
        "内环（洞）与外环相交。",
        "A hole crosses its shell.",
    ),
    "invalid_geometry": (
        "error",
        "几何图形无效：{reason}",
        "The geometry is invalid: {reason}",
    ),
    "repaired": (
        "warning",
        "已自动修复：{action}。",
        "Repaired automatically: {action}.",
    ),
    "winding": (
        "warning",
        "环的方向不符合 RFC 7946（外环应逆时针、洞应顺时针），已纠正。",
        "Ring winding breaks RFC 7946 (exterior counter-clockwise, holes clockwise); fixed.",
    ),
    "code_missing": ("error", "缺少编码（{field}）。", "The code ({field}) is missing."),
    "code_duplicate": (
        "error",
        "编码 {code} 重复（也在第 {other_index} 个要素中）。",
        "Code {code} is used twice (also by feature {other_index}).",
    ),
    "name_missing": ("warning", "缺少名称（{field}）。", "The name ({field}) is missing."),
    "level_invalid": (
        "error",
        "层级 {value!r} 无效；应为 街道/居民区/块区/楼组。",
        "Level {value!r} is invalid; use street/residential_area/block/building_group.",
    ),
    "parent_missing": (
        "error",
        "{level_zh}必须有上级编码（{field}）。",
        "A {level} needs a parent code ({field}).",
    ),
    "parent_not_found": (
        "error",
        "上级编码 {parent_code} 不存在。",
        "Parent code {parent_code} does not exist.",
    ),
    "parent_level_mismatch": (
        "error",
        "上级 {parent_code} 的层级是 {parent_level}，应为 {expected}。",
        "Parent {parent_code} is a {parent_level}; a {expected} is needed.",
    ),
    "child_outside_parent": (
        "error",
        "有 {outside_area_m2} 平方米超出上级 {parent_code}（最远 {outside_distance_m} 米）。",
        "{outside_area_m2} m² lie outside parent {parent_code} "
        "(up to {outside_distance_m} m beyond it).",
    ),
    "sibling_overlap": (
        "error",
        "与 {other_code} 重叠 {overlap_area_m2} 平方米。",
        "Overlaps {other_code} by {overlap_area_m2} m².",
    ),
    "coverage_gap": (
        "warning",
        "下级网格没有覆盖 {code} 的一块区域，面积 {gap_area_m2} 平方米。",
        "Child cells leave {gap_area_m2} m² of {code} uncovered.",
    ),
    "no_cells": ("error", "文件中没有任何网格。", "The file holds no cells."),
    # Base layers (roads, building footprints, points of interest): geo/layer_reading.py
    "layer_geometry_type": (
        "error",
        "“{kind_zh}”图层只接受 {expected}，这里是 {geometry_type}。",
        "A {kind} layer takes {expected} only, not {geometry_type}.",
    ),
    "line_degenerate": (
        "error",
        "线只有 {unique} 个不同的点，至少需要 2 个。",
        "A line has {unique} distinct points; at least 2 are needed.",
    ),
    "no_layer_features": (
        "error",
        "文件中没有任何可用的要素。",
        "The file holds no usable feature.",
    ),
    "properties_dropped": (
        "warning",
        "以下属性未导入（底图只保存名称、门牌等公开信息）：{keys}。",
        "These properties were not imported (base layers keep names and numbers only): {keys}.",
    ),
    "level_absent": (
        "error",
        "没有任何要素带有层级属性（{field}）。请选择一个默认层级，或按编码规则推导层级。",
        "No feature has a level property ({field}). Choose a default level, or derive the "
        "levels from the codes.",
    ),
    "level_not_derivable": (
        "error",
        "无法从编码 {code} 推导层级：编码规则见文档"
        "（按“-”等分隔的段数，9 位街道码、12 位居委码）。",
        "No level can be derived from code {code}: see the code rule in the docs "
        "(segments separated by '-' etc.; 9-digit street and 12-digit committee codes).",
    ),
    "grid_displaced": (
        "blocking",
        "与已发布版本相比，网格整体偏移了约 {median_shift_m} 米（{matched} 个同编码网格的中位数，"
        "阈值 {threshold_m} 米）。{cause_zh}",
        "Compared with the published version the cells moved a median of {median_shift_m} m "
        "({matched} cells with the same code; threshold {threshold_m} m). {cause_en}",
    ),
    "displacement_unmeasured": (
        "warning",
        "没有与已发布版本相同的网格编码，无法测量整体偏移；请在地图上对照两个版本。",
        "No cell code is shared with the published version, so how far the grid moved could "
        "not be measured; compare the two versions on the map.",
    ),
}

# One problem for the whole file instead of one per feature when several features share a
# cause (a file with swapped axes is one mistake, not 19,000): ``geo.file_problems``.
# Filled with count (features affected), total (features in the file), first (the first
# affected feature, "#3 R1-B1") and the first feature's own data.
MANY: dict[str, tuple[str, str]] = {
    "axes_swapped": (
        "{count}/{total} 个要素的坐标看起来是 [纬度, 经度]（如 {first}：{value}），"
        "GeoJSON 要求 [经度, 纬度]。可交换坐标轴后重新读取。",
        "The coordinates of {count} of {total} features look like [lat, lon] (e.g. {first}: "
        "{value}); GeoJSON needs [lon, lat]. The file can be read again with the axes swapped.",
    ),
    "metres_as_degrees": (
        "{count}/{total} 个要素的坐标像是以米为单位的投影坐标（如 {first}：{value}），"
        "但声明的是经纬度（{datum}）。请选择正确的坐标系。",
        "The coordinates of {count} of {total} features look like projected metres (e.g. "
        "{first}: {value}) but {datum} (degrees) was declared. Choose the right CRS.",
    ),
    "coordinates_out_of_range": (
        "{count}/{total} 个要素的坐标超出经纬度范围（如 {first}：{value}）。",
        "The coordinates of {count} of {total} features are outside the lon/lat range "
        "(e.g. {first}: {value}).",
    ),
    "level_not_derivable": (
        "{count}/{total} 个要素的编码无法推导层级（如 {first}）：编码规则见文档。",
        "No level can be derived from the codes of {count} of {total} features (e.g. {first}): "
        "see the code rule in the docs.",
    ),
    "far_from_district": (
        "{count}/{total} 个要素离本辖区太远（如 {first}：约 {distance_km} 公里）。",
        "{count} of {total} features are far from the district (e.g. {first}: about "
        "{distance_km} km away).",
    ),
}
