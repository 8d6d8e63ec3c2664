"""The rule catalogue of tabular imports: stable names, severities, messages in Chinese and English.

Plain data, no Flask (the style of geo/rules.py). ``error`` blocks applying the file;
``warning`` is applied and reported. Templates are filled from the problem's row, column,
value and data; ``{where_zh}``/``{where_en}`` say "第 12 行「姓名」" / "row 12, column 姓名".
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["error", "warning"]

RULES: dict[str, tuple[Severity, str, str]] = {
    # The file as a whole.
    "empty_file": ("error", "文件为空。", "The file is empty."),
    "unreadable_file": (
        "error",
        "无法读取此文件（{detail}）。请上传 .xlsx 或 .csv 文件。",
        "This file cannot be read ({detail}). Upload an .xlsx or .csv file.",
    ),
    "too_large": (
        "error",
        "文件有 {rows} 行数据，超过上限 {limit} 行。请分批导入。",
        "The file has {rows} data rows, more than the limit of {limit}. Import it in parts.",
    ),
    "encoding_detected": (
        "warning",
        "文件编码为 {encoding}（不是 UTF-8），已按 {encoding} 读取。",
        "The file is encoded in {encoding} (not UTF-8); it was read as {encoding}.",
    ),
    "bad_encoding": (
        "error",
        "{where_zh}：文件既不是 UTF-8 也不是 GBK/GB18030 编码（第 {offset} 字节）。"
        "请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx。",
        "{where_en}: the file is neither UTF-8 nor GBK/GB18030 (byte {offset}). "
        'Save it again from Excel/WPS as "CSV UTF-8" or .xlsx.',
    ),
    "no_header": (
        "error",
        "前 {rows} 行中找不到表头（如“姓名”“地址”）。请确认文件和导入类型，或在列对应中指定。",
        "No header row (such as 姓名, 地址) in the first {rows} rows. Check the file and the "
        "kind of import, or map the columns by hand.",
    ),
    "missing_column": (
        "error",
        "缺少必需的列“{field_zh}”。可能的表头：{variants}。也可在列对应中指定。",
        'The required column "{field_en}" is missing. Headers we recognise: {variants}. '
        "Or map it by hand.",
    ),
    "mapped_column_absent": (
        "error",
        "列对应指定的表头“{column}”在文件中不存在。",
        'The mapping names the header "{column}", which the file does not have.',
    ),
    "duplicate_column": (
        "warning",
        "“{column}”与前面的列都对应“{field_zh}”，只使用第一列。",
        'Column "{column}" maps to "{field_en}" like an earlier one; only the first is used.',
    ),
    "ignored_column": (
        "warning",
        "列“{column}”不认识，已忽略。",
        'Column "{column}" is not recognised and is ignored.',
    ),
    "hidden_sheet_skipped": (
        "warning",
        "已跳过隐藏的工作表“{sheet}”。",
        'The hidden sheet "{sheet}" was skipped.',
    ),
    "other_sheets": (
        "warning",
        "文件有多个工作表，只导入了“{sheet}”（其余：{others}）。",
        'The file has several sheets; only "{sheet}" was imported (others: {others}).',
    ),
    "merged_header": (
        "warning",
        "表头有合并单元格（{ranges}），已按合并内容展开。",
        "The header has merged cells ({ranges}); their text was spread over the columns.",
    ),
    "no_rows": ("error", "表头之后没有数据行。", "There are no data rows after the header."),
    # Any cell.
    "required_missing": ("error", "{where_zh}为空。", "{where_en} is empty."),
    "too_long": (
        "error",
        "{where_zh}太长（{length} 字，上限 {limit}）：{value}",
        "{where_en} is too long ({length} characters, at most {limit}): {value}",
    ),
    "formula_text": (
        "warning",
        "{where_zh}以 = + - @ 开头（{value}），按文字保存；导出时会加前缀，不会当作公式执行。",
        "{where_en} starts with = + - @ ({value}); it is kept as text and exported with a "
        "prefix so that it never runs as a formula.",
    ),
    "control_characters": (
        "warning",
        "{where_zh}含有不可见的控制字符，已删除。",
        "{where_en} holds invisible control characters; they were removed.",
    ),
    "date_unreadable": (
        "error",
        "{where_zh}“{value}”不是日期（写作 1950-03-08、1950年3月 或 195003）。",
        '{where_en} "{value}" is not a date (write 1950-03-08, 1950年3月 or 195003).',
    ),
    "bool_unreadable": (
        "error",
        "{where_zh}“{value}”应为“是”或“否”。",
        '{where_en} "{value}" should be 是 (yes) or 否 (no).',
    ),
    "number_unreadable": (
        "error",
        "{where_zh}“{value}”不是数字。",
        '{where_en} "{value}" is not a number.',
    ),
    "duplicate_key": (
        "error",
        "{where_zh}“{value}”在第 {first_row} 行已出现过。",
        '{where_en} "{value}" already appears in row {first_row}.',
    ),
    # The population register.
    "id_format": (
        "error",
        "{where_zh}“{value}”不是 18 位（或旧 15 位）身份证号。",
        '{where_en} "{value}" is not an 18-character (or old 15-digit) identity number.',
    ),
    "id_check_digit": (
        "error",
        "{where_zh}“{value}”的校验位不对（GB 11643），可能有输错的数字。",
        '{where_en} "{value}" fails the check digit (GB 11643): a digit is probably mistyped.',
    ),
    "id_birth_date": (
        "error",
        "{where_zh}“{value}”中的出生日期不存在。",
        '{where_en} "{value}" holds a birth date that does not exist.',
    ),
    "id_upgraded": (
        "warning",
        "{where_zh}是旧的 15 位号码，已转换为 18 位。",
        "{where_en} is an old 15-digit number; it was converted to 18 characters.",
    ),
    "id_birth_mismatch": (
        "error",
        "{where_zh}“{value}”与身份证号中的出生日期 {from_id} 不一致。",
        '{where_en} "{value}" differs from the birth date in the identity number, {from_id}.',
    ),
    "id_sex_mismatch": (
        "error",
        "{where_zh}“{value}”与身份证号中的性别（{from_id_zh}）不一致。",
        '{where_en} "{value}" differs from the sex in the identity number ({from_id_en}).',
    ),
    "sex_unknown": (
        "error",
        "{where_zh}“{value}”无法识别，请写“男”或“女”。",
        '{where_en} "{value}" is not recognised; write 男 (male) or 女 (female).',
    ),
    "age_impossible": (
        "error",
        "{where_zh}“{value}”算出的年龄为 {age} 岁，不可能。",
        '{where_en} "{value}" gives an age of {age}, which is impossible.',
    ),
    "age_unusual": (
        "warning",
        "{where_zh}“{value}”算出的年龄为 {age} 岁，请核对。",
        '{where_en} "{value}" gives an age of {age}; please check.',
    ),
    "phone_invalid": (
        "warning",
        "{where_zh}“{value}”不是电话号码，未保存。",
        '{where_en} "{value}" is not a phone number and is not kept.',
    ),
    "phone_several": (
        "warning",
        "{where_zh}有多个号码（{value}）：{first} 作为联系电话，其余记入备注（其他电话）。",
        "{where_en} holds several numbers ({value}): {first} is kept as the phone, the others "
        "in the notes (其他电话).",
    ),
    "relation_unknown": (
        "warning",
        "{where_zh}“{value}”不认识，记为“其他”。",
        '{where_en} "{value}" is not recognised and is recorded as 其他 (other).',
    ),
    "category_unknown": (
        "warning",
        "{where_zh}“{value}”不在“人员类别对应表”中，未加关爱标签（可在对应表中添加后重新导入）。",
        '{where_en} "{value}" is not in the category table, so no care tag was given (add it '
        "to the table and import again).",
    ),
    "tag_unknown": (
        "warning",
        "{where_zh}“{value}”不是已知的关爱标签，已忽略。",
        '{where_en} "{value}" is not a known care tag and is ignored.',
    ),
    "duplicate_person": (
        "error",
        "{where_zh}：身份证号与第 {first_row} 行相同，同一人出现了两次。",
        "{where_en}: the same identity number as row {first_row}; one person appears twice.",
    ),
    "possible_duplicate": (
        "warning",
        "{where_zh}：“{value}”（{birth_year} 年生）已登记在 {other_address}，是否同一人？",
        '{where_en}: "{value}" (born {birth_year}) is already registered at {other_address}; '
        "the same person?",
    ),
    "person_moves": (
        "warning",
        "{where_zh}：此人已登记在 {other_address}，导入后将迁到本户。",
        "{where_en}: this person is registered at {other_address} and will move to this household.",
    ),
    "household_no_head": (
        "warning",
        "{where_zh}：户“{value}”没有户主（与户主关系为“本人/户主”的人）。",
        '{where_en}: household "{value}" has no head (nobody with relation 本人/户主).',
    ),
    "household_two_heads": (
        "warning",
        "{where_zh}：户“{value}”有 {count} 个户主。",
        '{where_en}: household "{value}" has {count} heads.',
    ),
    "household_split_address": (
        "error",
        "{where_zh}：户号“{value}”在第 {first_row} 行的地址是“{other}”，两行地址不同。",
        '{where_en}: household "{value}" has the address "{other}" in row {first_row}; the '
        "two differ.",
    ),
    "address_unparsed": (
        "warning",
        "{where_zh}“{value}”无法分出路、弄、号，此户暂不落格，请在“地址核对”中处理。",
        '{where_en} "{value}" cannot be split into road, lane and number; the household '
        'stays unplaced until it is resolved under "Address check".',
    ),
    "address_unmatched": (
        "warning",
        "{where_zh}“{value}”不在标准地址中，此户暂不落格，请在“地址核对”中处理。",
        '{where_en} "{value}" is not a standard address; the household stays unplaced '
        'until it is resolved under "Address check".',
    ),
    "address_ambiguous": (
        "warning",
        "{where_zh}“{value}”对应 {count} 个标准地址（{candidates}），请在“地址核对”中选择。",
        '{where_en} "{value}" matches {count} standard addresses ({candidates}); choose one '
        'under "Address check".',
    ),
    # Standard addresses.
    "coordinates_invalid": (
        "error",
        "{where_zh}：经纬度“{value}”无法读取。",
        '{where_en}: the coordinates "{value}" cannot be read.',
    ),
    "coordinates_outside": (
        "error",
        "{where_zh}：坐标 {value} 不在本区范围内（经纬度颠倒或坐标系选错？）。",
        "{where_en}: the point {value} lies outside the district (longitude and latitude "
        "swapped, or the wrong datum chosen?).",
    ),
    "footprint_invalid": (
        "error",
        "{where_zh}：楼栋轮廓无法读取（{detail}）。",
        "{where_en}: the building footprint cannot be read ({detail}).",
    ),
    "outside_grid": (
        "warning",
        "{where_zh}：地址“{value}”不在任何楼组内，未落格。",
        '{where_en}: the address "{value}" lies in no building group and is not placed.',
    ),
    "same_door_twice": (
        "warning",
        "{where_zh}：“{value}”与第 {first_row} 行是同一门牌。",
        '{where_en}: "{value}" is the same door as row {first_row}.',
    ),
    # Staff and units.
    "username_invalid": (
        "error",
        "{where_zh}“{value}”不能作用户名（字母、数字、. _ -，3–64 位）。",
        '{where_en} "{value}" is not a valid user name (letters, digits, . _ -, 3–64).',
    ),
    "role_unknown": (
        "error",
        "{where_zh}“{value}”不是已知角色（网格员、调度员、GIS、管理人员、系统管理员）。",
        '{where_en} "{value}" is not a known role (worker, dispatcher, gis, manager, admin).',
    ),
    "duty_unknown": (
        "error",
        "{where_zh}“{value}”不是已知职责（网格员、楼组长、社区民警、物业经理、志愿者）。",
        '{where_en} "{value}" is not a known duty (grid worker, building-group leader, '
        "community police, property manager, volunteer).",
    ),
    "cell_unknown": (
        "error",
        "{where_zh}“{value}”不是已发布网格中的单元编码。",
        '{where_en} "{value}" is not a cell code of the published grid.',
    ),
    "unit_unknown": (
        "error",
        "{where_zh}“{value}”不是已有的单位编码。",
        '{where_en} "{value}" is not the code of a known unit.',
    ),
    "unit_kind_unknown": (
        "error",
        "{where_zh}“{value}”不是已知的单位类别（职能部门、驻区单位、物业公司、应急抢修队、社会组织、"
        "志愿者队伍、服务商）。",
        '{where_en} "{value}" is not a known kind of unit.',
    ),
    "email_invalid": (
        "warning",
        "{where_zh}“{value}”不是电子邮箱地址，未保存。",
        '{where_en} "{value}" is not an e-mail address and is not kept.',
    ),
    "job_interrupted": (
        "error",
        "检查在后台中断了（超过 {minutes} 分钟没有完成，处理它的进程可能已停止），没有做任何改动。"
        "请重新上传文件。",
        "The check stopped in the background (not finished after {minutes} minutes: the "
        "process doing it has probably stopped); nothing was changed. Upload the file again.",
    ),
    "apply_interrupted": (
        "warning",
        "上次应用在后台中断了（超过 {minutes} 分钟没有完成，处理它的进程可能已停止），没有写入"
        "任何内容。可以再次应用。",
        "The last apply stopped in the background (not finished after {minutes} minutes: the "
        "process doing it has probably stopped); nothing was written. It may be applied again.",
    ),
    "geojson_problem": (
        "error",
        "GeoJSON 文件：{detail_zh}",
        "GeoJSON file: {detail_en}",
    ),
    "geojson_not_here": (
        "error",
        "GeoJSON 文件只能用于导入标准地址；此类导入请上传 .xlsx 或 .csv 文件。",
        "A GeoJSON file can only bring in standard addresses; upload an .xlsx or .csv file "
        "for this kind.",
    ),
    "catalogue_kind_unknown": (
        "error",
        "{where_zh}“{value}”应为“事务”或“服务”。",
        '{where_en} "{value}" should be 事务 (affair) or 服务 (service).',
    ),
    "category_kind_mismatch": (
        "error",
        "{where_zh}：小类“{value}”属于“{category_kind_zh}”，与本行的大类不符。",
        '{where_en}: the category "{value}" is one of the {category_kind_en}, not of this '
        "row's kind.",
    ),
    "time_limit_invalid": (
        "error",
        "{where_zh}“{value}”不是有效的时限（{lo} 至 {hi} 小时）。",
        '{where_en} "{value}" is not a valid time limit ({lo} to {hi} hours).',
    ),
    "time_limits_order": (
        "error",
        "{where_zh}：时限应为 紧急 ≤ 较急 ≤ 一般（{value}）。",
        "{where_en}: time limits must be urgent ≤ high ≤ normal ({value}).",
    ),
    "unit_inactive": (
        "warning",
        "{where_zh}“{value}”是已停用的单位；仍设为默认处置单位，请确认。",
        '{where_en} "{value}" is a disabled unit; it is still set as the default unit, check it.',
    ),
}
